// f32 GEMM for the simd backend: register-blocked MR x NR microkernels, cache blocking over K, M and N.
//
// All three forms (A·B, A·Bᵀ, Aᵀ·B), any leading dimensions, bias, ReLU and accumulation reduce to one
// microkernel template in two flavours: gemm reads the MR rows of A in place (row-major A, as XNNPACK's gemm
// kernels do), ppmm reads A packed into MR-row panels (Aᵀ, whose MR values of one step are only contiguous
// after packing, and A itself where the config packs it to skip zeros). B rows are read in place when B is not
// transposed (row p of a panel is NR contiguous floats at stride ldb) and packed into contiguous NR-column panels
// when it is transposed, when the ISA's config says packing repays the copy, or for a last panel narrower than NR.
// Tiles narrower than NR are computed at full width into a local tile and copied out, so C's padding columns are
// never touched. A packed A panel with many all-zero steps (image pixels, ReLU outputs) runs only its other steps
// (ppmmnz); the skipped steps would have added ±0, so the bits are those of the dense product.
//
// Threads: a large GEMM is cut into sub-GEMMs over whole MR-row or NR-column panels of C (never over K), a few
// per thread of core/parallel.h; an operand that every block would pack in full is packed once before the cut.
// Every element of C then sees the same K blocks in the same order, so the result is bit-identical for any thread
// count.
//
// Index of this file
// [SECTION] Microkernels
// [SECTION] Configuration
// [SECTION] Packing
// [SECTION] Driver
// [SECTION] Threads
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <vector>

#include "core/kernels/simd/gemm.h"
#include "core/kernels/simd/simd_mappings.h"
#include "core/parallel.h"

namespace cairn::simd {


//-----------------------------------------------------------------------------
// [SECTION] Microkernels
//-----------------------------------------------------------------------------

#define CAIRN_UNROLL _Pragma("GCC unroll 32")

// Epilogue of a tile: old C first (accumulate or an earlier K block), then bias and ReLU on the final sum.
template <int R, int NV>
HWY_INLINE void store_tile(vf (&acc)[R][NV], float* HWY_RESTRICT c, int64_t ldc, const float* HWY_RESTRICT bias,
                           uint32_t flags) {
    CAIRN_UNROLL for (int r = 0; r < R; ++r)
        CAIRN_UNROLL for (int v = 0; v < NV; ++v) {
            float* cp = c + r * ldc + v * kVL;
            vf x = acc[r][v];
            if (flags & kGemmLoadC) x = vadd(vload(cp), x);
            if (bias) x = vadd(x, vload(bias + v * kVL));
            if (flags & kGemmRelu) x = vrelu(x);
            vstore(cp, x);
        }
}

// R rows of C times NV vectors of B. A is read either in place (PACKED = false: row r at a + r*lda, one float
// per step, as XNNPACK's gemm kernels do) or from a packed panel (PACKED = true: MR floats per step, XNNPACK's
// ppmm). Everything is unrolled so the R*NV accumulators live in registers; on x86 the broadcast of A folds
// into the FMA's memory operand.
template <int MR, int R, int NV, bool PACKED>
HWY_INLINE void gemm_tile(int64_t kc, const float* HWY_RESTRICT a, int64_t lda, const float* HWY_RESTRICT b,
                          int64_t ldb, float* HWY_RESTRICT c, int64_t ldc, const float* HWY_RESTRICT bias,
                          uint32_t flags) {
    vf acc[R][NV];
    CAIRN_UNROLL for (int r = 0; r < R; ++r)
        CAIRN_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = vzero();
    const float* ar[R];
    CAIRN_UNROLL for (int r = 0; r < R; ++r) ar[r] = PACKED ? a + r : a + r * lda;
    for (int64_t p = 0; p < kc; ++p) {
        vf bv[NV];
        CAIRN_UNROLL for (int v = 0; v < NV; ++v) bv[v] = vload(b + v * kVL);
        CAIRN_UNROLL for (int r = 0; r < R; ++r) {
            const vf av = vset1(PACKED ? ar[0][r] : ar[r][p]);
            CAIRN_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = vfma(av, bv[v], acc[r][v]);
        }
        if (PACKED) ar[0] += MR;
        b += ldb;
    }
    store_tile<R, NV>(acc, c, ldc, bias, flags);
}

// The packed-A tile over the listed steps of its panel only. A step whose MR values of A are all zero adds exactly
// nothing: each product 0·b is ±0, and a sum that starts at +0 never becomes -0. In a first layer's weight gradient
// (Xᵀ·dZ) a step is MR neighbouring pixels of one image, often zero together (39% of Fashion-MNIST's 4-pixel
// steps); in a forward product (X·W) it is one input of MR samples (21% in a W1 step, with the ReLU outputs).
template <int MR, int NV>
HWY_INLINE void ppmm_tile_steps(int64_t nsteps, const int32_t* HWY_RESTRICT steps, const float* HWY_RESTRICT a,
                                const float* HWY_RESTRICT b, int64_t ldb, float* HWY_RESTRICT c, int64_t ldc,
                                const float* HWY_RESTRICT bias, uint32_t flags) {
    vf acc[MR][NV];
    CAIRN_UNROLL for (int r = 0; r < MR; ++r)
        CAIRN_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = vzero();
    const ptrdiff_t bstride = ptrdiff_t(ldb);  // pointer-sized: 32-bit address arithmetic in wasm32, not i64
    for (int64_t i = 0; i < nsteps; ++i) {
        const ptrdiff_t p = steps[i];
        const float* ap = a + p * MR;
        const float* bp = b + p * bstride;
        vf bv[NV];
        CAIRN_UNROLL for (int v = 0; v < NV; ++v) bv[v] = vload(bp + v * kVL);
        CAIRN_UNROLL for (int r = 0; r < MR; ++r) {
            const vf av = vset1(ap[r]);
            CAIRN_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = vfma(av, bv[v], acc[r][v]);
        }
    }
    store_tile<MR, NV>(acc, c, ldc, bias, flags);
}

template <int MR, int R, int NV, bool PACKED>
HWY_NOINLINE void gemm_rows(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                            int64_t ldc, const float* bias, uint32_t flags) {
    gemm_tile<MR, R, NV, PACKED>(kc, a, lda, b, ldb, c, ldc, bias, flags);
}

// Named microkernels, XNNPACK style: f32_gemm_<MR>x<NR>__<isa> (A in place) and f32_ppmm_<MR>x<NR>__<isa>
// (A packed). Plain C names so profilers and the wasm disassembly (--profiling-funcs) show them.
#define CAIRN_UKERNEL_NAME_(OP, MR, NR, ISA) f32_##OP##_##MR##x##NR##__##ISA
#define CAIRN_UKERNEL_NAME(OP, MR, NR, ISA) CAIRN_UKERNEL_NAME_(OP, MR, NR, ISA)
#define CAIRN_DEFINE_UKERNEL(OP, MR, NR, PACKED)                                                               \
    extern "C" HWY_NOINLINE void CAIRN_UKERNEL_NAME(OP, MR, NR, CAIRN_ISA)(                                   \
        int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,           \
        const float* bias, uint32_t flags) {                                                                   \
        static_assert((NR) % kVL == 0, "NR must be whole vectors");                                            \
        gemm_tile<MR, MR, (NR) / kVL, PACKED>(kc, a, lda, b, ldb, c, ldc, bias, flags);                        \
    }

//-----------------------------------------------------------------------------
// [SECTION] Configuration
//-----------------------------------------------------------------------------

// Tiles per ISA. The accumulators plus the B vectors and one broadcast must fit the register file:
// AVX-512 has 32 vector registers (8x32: 16 accumulators), AVX2 and wasm-on-x86 16 (6x16: 12; 4x8: 8).
// Without FMA (wasm) each step needs a mul and an add, so the 4x8 tile keeps V8's register allocator spill-free.
#ifndef CAIRN_GEMM_MR
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define CAIRN_GEMM_MR 8
#define CAIRN_GEMM_NR 32
#elif HWY_TARGET == HWY_AVX2
#define CAIRN_GEMM_MR 6
#define CAIRN_GEMM_NR 16
#elif HWY_TARGET == HWY_WASM
#define CAIRN_GEMM_MR 4
#define CAIRN_GEMM_NR 8
#elif HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
#define CAIRN_GEMM_MR 4
#define CAIRN_GEMM_NR 4
#else
#define CAIRN_GEMM_MR 4
#define CAIRN_GEMM_NR 8
#endif
#endif

CAIRN_DEFINE_UKERNEL(gemm, CAIRN_GEMM_MR, CAIRN_GEMM_NR, false)
CAIRN_DEFINE_UKERNEL(gemm, 1, CAIRN_GEMM_NR, false)
CAIRN_DEFINE_UKERNEL(ppmm, CAIRN_GEMM_MR, CAIRN_GEMM_NR, true)
// f32_ppmmnz_<MR>x<NR>__<isa>: the ppmm over a panel's nonzero steps (ppmm_tile_steps).
extern "C" HWY_NOINLINE void CAIRN_UKERNEL_NAME(ppmmnz, CAIRN_GEMM_MR, CAIRN_GEMM_NR, CAIRN_ISA)(
    int64_t nsteps, const int32_t* steps, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
    const float* bias, uint32_t flags) {
    ppmm_tile_steps<CAIRN_GEMM_MR, CAIRN_GEMM_NR / kVL>(nsteps, steps, a, b, ldb, c, ldc, bias, flags);
}

namespace {

constexpr int kMR = CAIRN_GEMM_MR, kNR = CAIRN_GEMM_NR, kNV = kNR / kVL;

template <int R>
void fill_rows(GemmConfig& cfg) {
    if constexpr (R > 0) {
        cfg.gemm[R] = gemm_rows<kMR, R, kNV, false>;
        cfg.ppmm[R] = gemm_rows<kMR, R, kNV, true>;
        fill_rows<R - 1>(cfg);
    }
}

GemmConfig make_config() {
    GemmConfig cfg{};
    cfg.mr = kMR;
    cfg.nr = kNR;
    fill_rows<kMR>(cfg);
    cfg.gemm[kMR] = CAIRN_UKERNEL_NAME(gemm, CAIRN_GEMM_MR, CAIRN_GEMM_NR, CAIRN_ISA);
    cfg.gemm[1] = CAIRN_UKERNEL_NAME(gemm, 1, CAIRN_GEMM_NR, CAIRN_ISA);
    cfg.ppmm[kMR] = CAIRN_UKERNEL_NAME(ppmm, CAIRN_GEMM_MR, CAIRN_GEMM_NR, CAIRN_ISA);
    cfg.ppmm_steps = CAIRN_UKERNEL_NAME(ppmmnz, CAIRN_GEMM_MR, CAIRN_GEMM_NR, CAIRN_ISA);
    cfg.mc = 128 / kMR * kMR;  // whole MR panels
    cfg.nc = 1024;
#if HWY_TARGET == HWY_WASM
    // 4x8 tiles take a narrow slice of each B row, so B is packed into contiguous panels, and K is blocked so the
    // packed kc x n block stays in L2 while each 4 x kc row tile of A stays in L1.
    cfg.kc = 256;
    cfg.pack_b_min_m = 2 * kMR;
    // A step of a 4-row tile is one input of 4 samples, all zero in 21% of a Fashion-MNIST W1 step's A·B steps
    // (pixels, ReLU outputs): packing A lets the tile skip them. One thread: a W1 step 1.85 -> 1.76 ms, W2 batch 256
    // +14%; dense inputs pay the packing, 1% of a 64x784x256 product.
    cfg.pack_a_zero_steps = true;
#else
    // Wide AVX-512 tiles use whole cache lines of B in place; packing B (k*n copies per call) cost more than it
    // saved on the benchmark shapes, and one K block keeps C out of the inner loops.
    cfg.kc = 1024;
    cfg.pack_b_min_m = INT64_MAX;
    // A step of 8 rows is all zero in 13% of Fashion-MNIST's pixel steps (21% for 4 rows); packing A to skip them
    // cost more than it saved: W1 -5% on 1 thread, -12% on 2.
    cfg.pack_a_zero_steps = false;
#endif
    cfg.name = "f32_gemm_" CAIRN_STR(CAIRN_GEMM_MR) "x" CAIRN_STR(CAIRN_GEMM_NR) "__" CAIRN_ISA_NAME;
    gemv_config(cfg);
    return cfg;
}

}  // namespace

const GemmConfig& gemm_config() {
    static const GemmConfig cfg = make_config();
    return cfg;
}

//-----------------------------------------------------------------------------
// [SECTION] Packing
//-----------------------------------------------------------------------------

namespace {

// Packing buffers start on a cache line: a 64-byte vector load that straddles two lines costs two.
class Scratch {
public:
    float* get(int64_t n) {
        if (n + 16 > (int64_t)buf_.size()) buf_.resize(n + 16);
        auto addr = reinterpret_cast<uintptr_t>(buf_.data());
        return buf_.data() + ((64 - addr % 64) % 64) / sizeof(float);
    }

private:
    std::vector<float> buf_;
};

// Four values of four rows (each row at its own pointer) into four packed steps `stride` floats apart, a step being
// the four rows' values at one k: a 4x4 transpose in registers. (A's panels: stride 4; Bᵀ's: NR, twice per step.)
HWY_INLINE void pack_4x4(const float* r0, const float* r1, const float* r2, const float* r3, float* dst,
                         int64_t stride) {
    const DF df;
    const vf a = vload(r0), b = vload(r1), c = vload(r2), d = vload(r3);
    const vf ab01 = hn::InterleaveLower(df, a, b), cd01 = hn::InterleaveLower(df, c, d);  // a0 b0 a1 b1, c0 d0 c1 d1
    const vf ab23 = hn::InterleaveUpper(df, a, b), cd23 = hn::InterleaveUpper(df, c, d);
    vstore(dst, hn::ConcatLowerLower(df, cd01, ab01));
    vstore(dst + stride, hn::ConcatUpperUpper(df, cd01, ab01));
    vstore(dst + 2 * stride, hn::ConcatLowerLower(df, cd23, ab23));
    vstore(dst + 3 * stride, hn::ConcatUpperUpper(df, cd23, ab23));
}

// The general panel packings, shared by A and B (edge panels, layouts without a fast path): `count` of a panel's
// `width` lanes come from memory, the others are zero; panel[p*width + l].
// Each lane a line of memory, step p at src[l*ld + p]: rows of A, columns of op(B) = rows of B for Bᵀ.
void pack_lanes_strided(const float* src, int64_t ld, int64_t count, int64_t width, int64_t kc, float* dst) {
    for (int64_t l = 0; l < width; ++l) {
        if (l < count) {
            const float* line = src + l * ld;
            for (int64_t p = 0; p < kc; ++p) dst[p * width + l] = line[p];
        } else {
            for (int64_t p = 0; p < kc; ++p) dst[p * width + l] = 0.f;
        }
    }
}
// Each step a run of memory, lane l at src[p*ld + l]: columns of B, rows of op(A) = columns of A for Aᵀ.
void pack_steps_contiguous(const float* src, int64_t ld, int64_t count, int64_t width, int64_t kc, float* dst) {
    for (int64_t p = 0; p < kc; ++p) {
        float* d = dst + p * width;
        std::memcpy(d, src + p * ld, sizeof(float) * count);
        for (int64_t l = count; l < width; ++l) d[l] = 0.f;
    }
}

// Rows i..i+rows (rows <= MR) of op(A) over the steps p0..p0+kc into one MR-row panel: panel[p*MR + r], zero padded.
void pack_a_panel(const GemmArgs& g, int64_t i, int64_t rows, int64_t p0, int64_t kc, float* dst) {
    if (!g.trans_a && rows == kMR && kMR == 4 && kVL == 4) {
        const float* r0 = g.a + i * g.lda + p0;
        const float* r1 = r0 + g.lda;
        const float* r2 = r1 + g.lda;
        const float* r3 = r2 + g.lda;
        int64_t p = 0;
        for (; p + 4 <= kc; p += 4) pack_4x4(r0 + p, r1 + p, r2 + p, r3 + p, dst + p * 4, 4);
        for (; p < kc; ++p) {
            dst[p * 4] = r0[p];
            dst[p * 4 + 1] = r1[p];
            dst[p * 4 + 2] = r2[p];
            dst[p * 4 + 3] = r3[p];
        }
    } else if (g.trans_a && rows == kMR) {  // fixed-count copies, which become vector copies
        for (int64_t p = 0; p < kc; ++p) {
            const float* src = g.a + (p0 + p) * g.lda + i;
            float* d = dst + p * kMR;
            CAIRN_UNROLL for (int r = 0; r < kMR; ++r) d[r] = src[r];
        }
    } else if (g.trans_a) {
        pack_steps_contiguous(g.a + p0 * g.lda + i, g.lda, rows, kMR, kc, dst);
    } else {
        pack_lanes_strided(g.a + i * g.lda + p0, g.lda, rows, kMR, kc, dst);
    }
}

// B[kc x cols] block starting at (p0, j0) into one panel of NR columns: panel[p*NR + j], zero padded.
void pack_b_panel(const GemmArgs& g, int64_t p0, int64_t kc, int64_t j0, int64_t cols, int nr, float* dst) {
    if (g.trans_b && cols == kNR && nr == kNR && kVL == 4 && kNR % 4 == 0) {
        // A column of op(B) is a row of B: groups of 4 rows transposed 4 steps at a time (pack_4x4), into the
        // panel's lanes 4q..4q+3. dX2 = dZ2·W2ᵀ of a wasm W1 step: 121 -> 109 µs against one value per copy.
        int64_t p = 0;
        for (; p + 4 <= kc; p += 4)
            for (int q = 0; q < kNR / 4; ++q) {
                const float* r0 = g.b + (j0 + 4 * q) * g.ldb + p0 + p;
                pack_4x4(r0, r0 + g.ldb, r0 + 2 * g.ldb, r0 + 3 * g.ldb, dst + p * kNR + 4 * q, kNR);
            }
        for (; p < kc; ++p)
            for (int j = 0; j < kNR; ++j) dst[p * kNR + j] = g.b[(j0 + j) * g.ldb + p0 + p];
    } else if (g.trans_b) {
        pack_lanes_strided(g.b + j0 * g.ldb + p0, g.ldb, cols, nr, kc, dst);
    } else if (cols == kNR && nr == kNR) {
        // A full panel row is NR floats of a fixed count: whole-vector copies instead of one memcpy call per row.
        for (int64_t p = 0; p < kc; ++p) {
            const float* src = g.b + (p0 + p) * g.ldb + j0;
            float* d = dst + p * kNR;
            CAIRN_UNROLL for (int v = 0; v < kNV; ++v) vstore(d + v * kVL, vload(src + v * kVL));
        }
    } else {
        pack_steps_contiguous(g.b + p0 * g.ldb + j0, g.ldb, cols, nr, kc, dst);
    }
}

}  // namespace

int64_t nonzero_steps(const float* a, int64_t kc, int32_t* steps) {
    // One pass that lists as it goes, a vector at a time, with no branch on the data. (A count first, then a scalar
    // listing loop, took ~1.2 µs, a tenth, of a batch-1 pass in wasm.) nz <= p throughout, so the kVL indices
    // stored at steps + nz never pass steps + kc.
    int64_t nz = 0, p = 0;
    for (; p + kVL <= kc; p += kVL) nz += vstore_nonzero_lanes(vload(a + p), int32_t(p), steps + nz);
    for (; p < kc; ++p) {
        steps[nz] = int32_t(p);
        nz += a[p] != 0.f;
    }
    return listed_or_dense(nz, kc);
}

//-----------------------------------------------------------------------------
// [SECTION] Driver
//-----------------------------------------------------------------------------

namespace {

// Bᵀ must be packed. B in place costs nothing to prepare, but a panel's rows sit ldb apart and a narrow NR uses part
// of each cache line; packed, a panel is one contiguous stream. Whether that repays the copy depends on the tile and
// on how many rows of A will read it (cfg.pack_b_min_m). The threaded cut asks the same question for the whole GEMM.
bool b_needs_packing(const GemmConfig& cfg, const GemmArgs& g, int64_t m) { return g.trans_b || m > cfg.pack_b_min_m; }

// B packed ahead of the call (pack_b_part): for each N block of nc columns, for each K block, the block's NR-column
// panels, each kc x NR. The offset of block (jc, pc) therefore counts all of K for the earlier N blocks.
int64_t packed_b_offset(int64_t jc, int64_t ncur, int64_t pc, int64_t k, int nr) {
    return jc * k + (ncur + nr - 1) / nr * nr * pc;
}

// All of op(B) packed once, so that every row block of a threaded GEMM reads it instead of packing its own copy.
// The buffer is the calling thread's scratch, valid until its next call; the panels are packed in parts
// (pack_b_part), so that the threads of the cut share the packing too.
float* prepacked_b_buffer(const GemmArgs& g) {
    thread_local Scratch b_buf;
    const int NR = gemm_config().nr;
    return b_buf.get((g.n + NR - 1) / NR * NR * std::max<int64_t>(g.k, 1));
}

// Part `part` of `parts` of op(B)'s NR-column panels, over all of K, into dst (prepacked_b_buffer).
void pack_b_part(const GemmArgs& g, float* dst, int part, int parts) {
    const GemmConfig& cfg = gemm_config();
    const int NR = cfg.nr;
    const int64_t n = g.n, k = std::max<int64_t>(g.k, 0), panels = (n + NR - 1) / NR;
    int64_t kblocks = 1, kstep = 1;
    gemm_k_blocks(cfg, k, kblocks, kstep);
    for (int64_t jp = panels * part / parts; jp < panels * (part + 1) / parts; ++jp) {
        const int64_t j0 = jp * NR, jc = j0 / cfg.nc * cfg.nc, ncur = std::min<int64_t>(cfg.nc, n - jc);
        for (int64_t kb = 0; kb < kblocks; ++kb) {
            const int64_t pc = std::min(k, kb * kstep), kc = std::min(kstep, k - pc);
            pack_b_panel(g, pc, kc, j0, std::min<int64_t>(NR, n - j0), NR,
                         dst + packed_b_offset(jc, ncur, pc, k, NR) + (j0 - jc) * kc);
        }
    }
}

// Aᵀ must be packed (a step's MR values are contiguous only then). A in place costs nothing to prepare; packed, each
// full panel lists its steps that are not all zero and the tile runs only those (cfg.pack_a_zero_steps).
bool a_needs_packing(const GemmConfig& cfg, const GemmArgs& g) {
    return g.trans_a || (cfg.pack_a_zero_steps && g.m >= cfg.mr);
}

// One full panel of op(A) (rows i..i+MR over the K block p0..p0+kc), packed as pack_a_panel packs it, with its
// nonzero steps listed (listed_or_dense). A step of Aᵀ is one vector of one of its rows, listed as it is copied.
// A's steps come out of 4x4 transposes and are listed in a second pass over the packed panel, which is in L1:
// listing them inside the transpose loop made a 2-thread W1 step 3% slower in wasm (1 thread: no change).
int64_t pack_a_panel_listing_steps(const GemmArgs& g, int64_t i, int64_t p0, int64_t kc, float* dst, int32_t* steps) {
    int64_t nz = 0;
    if (g.trans_a && kMR == kVL) {
        for (int64_t p = 0; p < kc; ++p) {
            const vf v = vload(g.a + (p0 + p) * g.lda + i);
            vstore(dst + p * kMR, v);
            steps[nz] = int32_t(p);
            nz += vany_nonzero(v);
        }
        return listed_or_dense(nz, kc);
    }
    pack_a_panel(g, i, kMR, p0, kc, dst);
    for (int64_t p = 0; p < kc; ++p) {
        bool any;
        if constexpr (kMR == kVL) {
            any = vany_nonzero(vload(dst + p * kMR));
        } else {
            any = false;
            CAIRN_UNROLL for (int r = 0; r < kMR; ++r) any |= dst[p * kMR + r] != 0.f;
        }
        steps[nz] = int32_t(p);
        nz += any;
    }
    return listed_or_dense(nz, kc);
}

// Rows i0..i0+rows of op(A) over the K block p0..p0+kc into MR-row panels, with each full panel's nonzero steps at
// steps + ip*kc and their count at nsteps[ip] (-1: run every step; always so for a partial panel, packed by
// pack_a_panel with its zero padding).
void pack_a_panels(const GemmArgs& g, int64_t i0, int64_t rows, int64_t p0, int64_t kc, float* dst, int32_t* steps,
                   int64_t* nsteps) {
    for (int64_t ip = 0; ip * kMR < rows; ++ip) {
        float* panel = dst + ip * kMR * kc;
        if ((ip + 1) * kMR <= rows) {
            nsteps[ip] = pack_a_panel_listing_steps(g, i0 + ip * kMR, p0, kc, panel, steps + ip * kc);
        } else {
            pack_a_panel(g, i0 + ip * kMR, rows - ip * kMR, p0, kc, panel);
            nsteps[ip] = -1;
        }
    }
}

// All of op(A) packed ahead of the call (pack_a_part), so that every column block of a threaded GEMM reads it
// instead of packing its own copy: for each K block (starting at step pc), the panels of all rows; panel ip's values
// at a + pc*mpad + ip*MR*kc (mpad: rows rounded up to whole panels), its steps at steps + pc*panels + ip*kc, its
// count at nsteps[kb*panels + ip].
struct PackedA {
    float* a;
    int32_t* steps;
    int64_t* nsteps;
};
int64_t packed_a_panels(const GemmArgs& g, int mr) { return (g.m + mr - 1) / mr; }

// The buffers, the calling thread's scratch, valid until its next call; packed in parts (pack_a_part) as B is.
PackedA prepacked_a_buffers(const GemmArgs& g) {
    thread_local Scratch a_buf;
    thread_local std::vector<int32_t> steps;
    thread_local std::vector<int64_t> nsteps;
    const GemmConfig& cfg = gemm_config();
    const int64_t k = std::max<int64_t>(g.k, 1), panels = packed_a_panels(g, cfg.mr);
    int64_t kblocks = 1, kstep = 1;
    gemm_k_blocks(cfg, k, kblocks, kstep);
    steps.resize(size_t(panels * k));
    nsteps.resize(size_t(panels * kblocks));
    return {a_buf.get(panels * cfg.mr * k), steps.data(), nsteps.data()};
}

// Part `part` of `parts` of op(A)'s MR-row panels, over all of K, into the buffers of prepacked_a_buffers.
void pack_a_part(const GemmArgs& g, const PackedA& dst, int part, int parts) {
    const GemmConfig& cfg = gemm_config();
    const int64_t k = std::max<int64_t>(g.k, 0), panels = packed_a_panels(g, cfg.mr);
    const int64_t ip0 = panels * part / parts, ip1 = panels * (part + 1) / parts;
    const int64_t i0 = ip0 * cfg.mr, rows = std::min(ip1 * cfg.mr, g.m) - i0;
    if (rows <= 0) return;
    int64_t kblocks = 1, kstep = 1;
    gemm_k_blocks(cfg, k, kblocks, kstep);
    for (int64_t kb = 0; kb < kblocks; ++kb) {
        const int64_t pc = std::min(k, kb * kstep), kc = std::min(kstep, k - pc);
        pack_a_panels(g, i0, rows, pc, kc, dst.a + pc * panels * cfg.mr + ip0 * cfg.mr * kc,
                      dst.steps + pc * panels + ip0 * kc, dst.nsteps + kb * panels + ip0);
    }
}

// prepacked_b: all of op(B) from pack_b_part, or null to pack (or read in place) here. prepacked_a likewise.
void gemm_serial(const GemmArgs& g, const float* prepacked_b = nullptr, const PackedA* prepacked_a = nullptr) {
    if (g.m <= 0 || g.n <= 0) return;
    if (g.m == 1 && !g.trans_a && !g.trans_b) return gemv(g);
    const GemmConfig& cfg = gemm_config();
    const int MR = cfg.mr, NR = cfg.nr;
    const int64_t m = g.m, n = g.n, k = std::max<int64_t>(g.k, 0);

    // Scratch reused across calls (training calls GEMM thousands of times with the same shapes).
    thread_local Scratch apack_buf, bpack_buf;
    thread_local std::vector<int32_t> a_steps;  // per packed A panel of the block: its nonzero steps
    thread_local std::vector<int64_t> a_nsteps;  // how many, or -1 to run the panel's every step
    thread_local std::vector<float> bias_pad;
    const float* bias = nullptr;
    if (g.bias) {  // microkernels read whole NR vectors of bias
        bias_pad.assign((n + NR - 1) / NR * NR, 0.f);
        std::memcpy(bias_pad.data(), g.bias, sizeof(float) * n);
        bias = bias_pad.data();
    }

    int64_t kblocks = 1, kstep = 1;
    gemm_k_blocks(cfg, k, kblocks, kstep);
    const int64_t nc_max = std::min<int64_t>(cfg.nc, (n + NR - 1) / NR * NR);
    const int64_t mc_max = std::min<int64_t>(cfg.mc, (m + MR - 1) / MR * MR);
    float* apack = apack_buf.get(mc_max * kstep);
    float* bpack = bpack_buf.get(nc_max * kstep);
    // A last panel narrower than NR is always packed (below), whatever this says.
    const bool pack_b = prepacked_b || b_needs_packing(cfg, g, m);
    const bool pack_a = prepacked_a || a_needs_packing(cfg, g);
    const int64_t a_panels = packed_a_panels(g, MR);
    static_assert(kMR <= 16 && kNR <= 64, "tile buffer too small");
    alignas(64) float tile[16 * 64];  // a partial-width tile of C, computed at full width

    for (int64_t jc = 0; jc < n; jc += cfg.nc) {
        const int64_t ncur = std::min<int64_t>(cfg.nc, n - jc);
        for (int64_t kb = 0; kb < kblocks; ++kb) {
            const int64_t pc = std::min(k, kb * kstep), kc = std::min(kstep, k - pc);
            const bool last = kb == kblocks - 1;
            const uint32_t flags = gemm_k_block_flags(g, pc, last);
            const float* bias_blk = last && bias ? bias + jc : nullptr;
            const float* bblock = prepacked_b ? prepacked_b + packed_b_offset(jc, ncur, pc, k, NR) : bpack;
            for (int64_t jr = 0; jr < ncur && !prepacked_b; jr += NR) {
                const int64_t cols = std::min<int64_t>(NR, ncur - jr);
                if (pack_b || cols < NR) pack_b_panel(g, pc, kc, jc + jr, cols, NR, bpack + jr * kc);
            }
            for (int64_t ic = 0; ic < m; ic += cfg.mc) {
                const int64_t mcur = std::min<int64_t>(cfg.mc, m - ic);
                // The block's packed A panels with their nonzero steps: from the prepacked copy, or packed here.
                const float* ablock = apack;
                const int32_t* steps_blk = nullptr;
                const int64_t* nsteps_blk = nullptr;
                if (prepacked_a) {
                    const int64_t ip0 = ic / MR;  // mc is whole panels
                    ablock = prepacked_a->a + pc * a_panels * MR + ip0 * MR * kc;
                    steps_blk = prepacked_a->steps + pc * a_panels + ip0 * kc;
                    nsteps_blk = prepacked_a->nsteps + kb * a_panels + ip0;
                } else if (pack_a) {
                    const int64_t panels = (mcur + MR - 1) / MR;
                    a_steps.resize(size_t(panels * kc));
                    a_nsteps.resize(size_t(panels));
                    pack_a_panels(g, ic, mcur, pc, kc, apack, a_steps.data(), a_nsteps.data());
                    steps_blk = a_steps.data();
                    nsteps_blk = a_nsteps.data();
                }
                // nsteps >= 0: run the packed A panel's listed steps only (nonzero_steps).
                auto tile_at = [&](int64_t ir, int64_t jr, int64_t nsteps, const int32_t* steps) {
                    const int64_t cols = std::min<int64_t>(NR, ncur - jr);
                    const bool packed = pack_b || cols < NR;
                    const float* bp = packed ? bblock + jr * kc : g.b + pc * g.ldb + jc + jr;
                    const int64_t bld = packed ? NR : g.ldb;
                    const float* bi = bias_blk ? bias_blk + jr : nullptr;
                    const int rows = (int)std::min<int64_t>(MR, mcur - ir);
                    const GemmUkernel uk = pack_a ? cfg.ppmm[rows] : cfg.gemm[rows];
                    const float* ap = pack_a ? ablock + ir * kc : g.a + (ic + ir) * g.lda + pc;
                    float* cp = g.c + (ic + ir) * g.ldc + jc + jr;
                    auto run = [&](float* c, int64_t ldc) {
                        if (nsteps >= 0) cfg.ppmm_steps(nsteps, steps, ap, bp, bld, c, ldc, bi, flags);
                        else uk(kc, ap, g.lda, bp, bld, c, ldc, bi, flags);
                    };
                    if (cols == NR) {
                        run(cp, g.ldc);
                    } else {  // computed at full width into a tile, then the valid columns copied out
                        if (flags & kGemmLoadC)
                            for (int r = 0; r < rows; ++r) std::memcpy(tile + r * NR, cp + r * g.ldc, sizeof(float) * cols);
                        run(tile, NR);
                        for (int r = 0; r < rows; ++r) std::memcpy(cp + r * g.ldc, tile + r * NR, sizeof(float) * cols);
                    }
                };
                // A row tile (MR x kc, from L1) meets every B panel of the block before the next tile.
                for (int64_t ir = 0, ip = 0; ir < mcur; ir += MR, ++ip) {
                    const int64_t nsteps = pack_a ? nsteps_blk[ip] : -1;
                    const int32_t* steps = pack_a ? steps_blk + ip * kc : nullptr;
                    for (int64_t jr = 0; jr < ncur; jr += NR) tile_at(ir, jr, nsteps, steps);
                }
            }
        }
    }
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Threads
//-----------------------------------------------------------------------------

// Below this many multiply-adds a GEMM stays on the calling thread: handing out tasks costs a few microseconds.
// A batch-1 inference (m = 1) never repays it; the 10-unit output layer of a training step (82 k: 64x10x128 and
// its two gradients) does, as the pool's workers are still awake from the step's large products (2 threads in
// wasm: 33 -> 26 µs for the three).
constexpr int64_t kParallelMinMacs = int64_t(1) << 16;
constexpr int kTasksPerThread = 4;
constexpr int kPackTasksPerThread = 2;

void gemm(const GemmArgs& g) {
    const int threads = num_threads();
    const int64_t m = g.m, n = g.n, k = std::max<int64_t>(g.k, 1);
    if (threads == 1 || m <= 1 || n <= 0 || m * n * k < kParallelMinMacs) return gemm_serial(g);
    // Cut C into runs of whole register panels, a few per thread: tasks are claimed dynamically, so when a thread
    // is late (a busy machine, a worker still waking) the others take its share.
    // A row cut shares all of B, a column cut all of A. A transposed A is packed by whoever reads it, so it is cut
    // into rows; B, when it must be packed (Bᵀ always, B when the config packs it at this m), is then packed once
    // ahead of the row blocks and every one reads that copy. A column cut likewise reads A packed once ahead, where
    // A is packed (Aᵀ with too few row panels, A where the config packs it to skip zeros).
    // With nothing packed either way, cut the larger operand, so that each core reads only its part of it: in a
    // training step B is the layer's weights, which the optimizer writes next, and a line that both cores read
    // must be invalidated in the other core's cache before the write, one round trip per line (natively, a
    // 2-thread W1 step's Adam took 170 µs after row cuts of X·W, 86 µs after column cuts). (64x256x128 A·Bᵀ cut
    // into rows once transposed all of B in every task and ran slower on 2 threads than on 1.)
    const GemmConfig& cfg = gemm_config();
    const int64_t mpanels = (m + cfg.mr - 1) / cfg.mr, npanels = (n + cfg.nr - 1) / cfg.nr;
    const bool b_packed = b_needs_packing(cfg, g, m);
    bool by_rows = g.trans_a ? true : b_packed ? false : m > n;  // m·k against k·n
    if ((by_rows ? mpanels : npanels) < threads) by_rows = !by_rows;
    const int64_t panels = by_rows ? mpanels : npanels, unit = by_rows ? cfg.mr : cfg.nr;
    const int tasks = (int)std::min<int64_t>(int64_t(threads) * kTasksPerThread, panels);
    // The operand shared by every block is packed before the product, in tasks of its own at the front of the same
    // call: tasks start in index order, so by the time a product task starts, every packing task has been started
    // by a running thread and will finish. Packed by the caller alone, it kept the workers waiting (in wasm, 63 µs
    // of a 2-thread W1 step).
    const bool prepack_b = by_rows && b_packed, prepack_a = !by_rows && a_needs_packing(cfg, g);
    float* prepacked_b = prepack_b ? prepacked_b_buffer(g) : nullptr;
    PackedA packed_a = prepack_a ? prepacked_a_buffers(g) : PackedA{};
    const PackedA* prepacked_a = prepack_a ? &packed_a : nullptr;
    const int pack_tasks = prepack_a || prepack_b
        ? (int)std::min<int64_t>(threads * kPackTasksPerThread, prepack_b ? npanels : mpanels) : 0;
    std::atomic<int> packed{0};
    parallel_for(pack_tasks + tasks, [&](int t) {
        if (t < pack_tasks) {
            if (prepack_b) pack_b_part(g, prepacked_b, t, pack_tasks);
            else pack_a_part(g, packed_a, t, pack_tasks);
            packed.fetch_add(1, std::memory_order_release);
            return;
        }
        t -= pack_tasks;
        while (packed.load(std::memory_order_acquire) < pack_tasks) spin_pause();
        const int64_t p0 = panels * t / tasks, p1 = panels * (t + 1) / tasks;
        const int64_t lo = p0 * unit, hi = std::min(p1 * unit, by_rows ? m : n);
        GemmArgs s = g;
        if (by_rows) {  // rows lo..hi of C and of op(A)
            s.m = hi - lo;
            s.a = g.trans_a ? g.a + lo : g.a + lo * g.lda;
            s.c = g.c + lo * g.ldc;
        } else {  // columns lo..hi of C, op(B) and bias
            s.n = hi - lo;
            s.b = g.trans_b ? g.b + lo * g.ldb : g.b + lo;
            s.c = g.c + lo;
            s.bias = g.bias ? g.bias + lo : nullptr;
        }
        gemm_serial(s, prepacked_b, prepacked_a);
    });
}

}  // namespace cairn::simd

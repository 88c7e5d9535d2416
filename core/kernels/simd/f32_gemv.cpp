// f32 GEMV for the simd backend: C[1 x n] (+)= a[1 x k] · B[k x n], the shape of batch-1 inference.
//
// Why not the GEMM's 1-row microkernel: with one row of A there is no reuse of a loaded B vector across rows, so
// the cost per step is the broadcast of a[p] plus the B loads. The GEMM's tile is only NR columns wide (8 on wasm);
// here one broadcast feeds kGemvNV vectors of B, and B (the layer's weights) streams through row by row in its
// stored layout. K is split into the GEMM's blocks, so a row alone gives the same bits as that row in a batch.
//
// Rows of B that meet a zero in a are skipped (nonzero_steps in gemm.h, which says why the bits stay those of the
// batch). Image pixels and the outputs of ReLU layers are often half zeros, and a skipped row is a row of weights
// not read: the pass is bound by streaming B.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/kernels/simd/gemm.h"
#include "core/kernels/simd/simd_mappings.h"

namespace cairn::simd {

namespace {

// NV vectors of columns over `rows` inputs of a K block. With idx, the inputs are a[idx[i]], each meeting row idx[i]
// of B (the block's nonzero inputs); without, a[i] meets row i (all of the block, read in order).
// Epilogue as in the GEMM: old C, then bias, then ReLU on the final sum.
template <int NV>
HWY_INLINE void gemv_cols(int64_t rows, const int32_t* HWY_RESTRICT idx, const float* HWY_RESTRICT a,
                          const float* HWY_RESTRICT b, int64_t ldb, float* HWY_RESTRICT c,
                          const float* HWY_RESTRICT bias, uint32_t flags) {
    vf acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = vzero();
    const ptrdiff_t stride = ptrdiff_t(ldb);  // pointer-sized: 32-bit address arithmetic in wasm32, not i64
    // Two rows of B per iteration, each accumulator still summed in row order (the GEMM's order, so the bits are
    // the same). In wasm this ran 784x256 in 14 µs against 22 µs for one row per iteration: V8 does not unroll, and
    // the loop's own overhead is then paid per 16 vectors instead of 32.
    // Rows come from idx (the block's nonzero inputs) or follow each other (all of the block: the row pointer
    // steps instead of being looked up, fewer operations per row of B). Both loops have the same body.
#define CAIRN_GEMV_TWO_ROWS(X0, B0, X1, B1)                                                                     \
    {                                                                                                          \
        const vf a0 = vset1(X0), a1 = vset1(X1);                                                               \
        const float* b0 = (B0);                                                                                \
        const float* b1 = (B1);                                                                                \
        for (int v = 0; v < NV; ++v) {                                                                         \
            acc[v] = vfma(a0, vload(b0 + v * kVL), acc[v]);                                                    \
            acc[v] = vfma(a1, vload(b1 + v * kVL), acc[v]);                                                    \
        }                                                                                                      \
    }
    int64_t i = 0;
    if (idx) {
        for (; i + 2 <= rows; i += 2) CAIRN_GEMV_TWO_ROWS(a[idx[i]], b + idx[i] * stride, a[idx[i + 1]], b + idx[i + 1] * stride)
    } else {
        for (; i + 2 <= rows; i += 2, b += 2 * stride) CAIRN_GEMV_TWO_ROWS(a[i], b, a[i + 1], b + stride)
    }
#undef CAIRN_GEMV_TWO_ROWS
    if (i < rows) {
        const vf a0 = vset1(idx ? a[idx[i]] : a[i]);
        const float* b0 = idx ? b + idx[i] * stride : b;
        for (int v = 0; v < NV; ++v) acc[v] = vfma(a0, vload(b0 + v * kVL), acc[v]);
    }
    for (int v = 0; v < NV; ++v) {
        vf x = acc[v];
        if (flags & kGemmLoadC) x = vadd(vload(c + v * kVL), x);
        if (bias) x = vadd(x, vload(bias + v * kVL));
        if (flags & kGemmRelu) x = vrelu(x);
        vstore(c + v * kVL, x);
    }
}

}  // namespace

#define CAIRN_GEMV_NAME_(NR, ISA) f32_gemv_1x##NR##__##ISA
#define CAIRN_GEMV_NAME(NR, ISA) CAIRN_GEMV_NAME_(NR, ISA)
// Columns per pass (B vectors per broadcast of a[p]). Measured on 784x256: in wasm, 16 vectors (64 columns) ran
// 1.35x faster than 8 and 32 (V8 keeps more loads in flight; 64 spilled); natively 8 vectors per pass.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define CAIRN_GEMV_NR 128
#elif HWY_TARGET == HWY_AVX2
#define CAIRN_GEMV_NR 64
#elif HWY_TARGET == HWY_WASM
#define CAIRN_GEMV_NR 64
#elif HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
#define CAIRN_GEMV_NR 8
#else
#define CAIRN_GEMV_NR 32
#endif
namespace {
constexpr int kGemvNV = CAIRN_GEMV_NR / kVL;
static_assert(kGemvNV * kVL == CAIRN_GEMV_NR, "CAIRN_GEMV_NR must be whole vectors");
}  // namespace

// The named microkernel (a plain C name, so profiles and the wasm disassembly show it).
extern "C" HWY_NOINLINE void CAIRN_GEMV_NAME(CAIRN_GEMV_NR, CAIRN_ISA)(int64_t rows, const int32_t* idx,
                                                                      const float* a, const float* b, int64_t ldb,
                                                                      float* c, const float* bias, uint32_t flags) {
    gemv_cols<kGemvNV>(rows, idx, a, b, ldb, c, bias, flags);
}

void gemv_config(GemmConfig& cfg) {
    cfg.gemv = CAIRN_GEMV_NAME(CAIRN_GEMV_NR, CAIRN_ISA);
    cfg.gemv_nr = CAIRN_GEMV_NR;
}

void gemv(const GemmArgs& g) {
    const GemmConfig& cfg = gemm_config();
    const int64_t n = g.n, k = std::max<int64_t>(g.k, 0);
    int64_t kblocks = 1, kstep = 1;
    gemm_k_blocks(cfg, k, kblocks, kstep);
    // The nonzero inputs of each K block, found once for all column passes: block kb's at idx + its start pc,
    // nsteps[kb] of them, or -1 to read the block whole.
    thread_local std::vector<int32_t> idx;
    thread_local std::vector<int64_t> nsteps;
    idx.resize(size_t(k));
    nsteps.resize(size_t(kblocks));
    for (int64_t kb = 0; kb < kblocks; ++kb) {
        const int64_t pc = std::min(k, kb * kstep), kc = std::min(kstep, k - pc);
        nsteps[size_t(kb)] = nonzero_steps(g.a + pc, kc, idx.data() + pc);
    }
    // Columns [j, j + width) over every K block, with the GEMM's flags per block (old C, then bias and ReLU last).
    auto columns = [&](auto&& kernel, const float* b, int64_t ldb, float* c, const float* bias) {
        for (int64_t kb = 0; kb < kblocks; ++kb) {
            const int64_t pc = std::min(k, kb * kstep), kc = std::min(kstep, k - pc);
            const bool last = kb == kblocks - 1;
            const uint32_t flags = gemm_k_block_flags(g, pc, last);
            const int64_t rows = nsteps[size_t(kb)];
            kernel(rows < 0 ? kc : rows, rows < 0 ? nullptr : idx.data() + pc, g.a + pc, b + pc * ldb, ldb, c,
                   last ? bias : nullptr, flags);
        }
    };
    int64_t j = 0;
    // Through the config's pointer, as the GEMM's microkernels are: it stays one named function in the binary.
    for (; j + cfg.gemv_nr <= n; j += cfg.gemv_nr) columns(cfg.gemv, g.b + j, g.ldb, g.c + j, g.bias ? g.bias + j : nullptr);
    for (; j + kVL <= n; j += kVL) columns(gemv_cols<1>, g.b + j, g.ldb, g.c + j, g.bias ? g.bias + j : nullptr);
    if (j == n) return;
    // Fewer columns than a vector: B's rows hold no readable floats past them, so they are computed at full width
    // from a zero-padded copy, as the GEMM does with its last panel (same arithmetic, same result).
    const int64_t cols = n - j;
    thread_local std::vector<float> bpad;
    bpad.assign(static_cast<size_t>(std::max<int64_t>(k, 1) * kVL), 0.f);
    for (int64_t p = 0; p < k; ++p)  // a few floats per row: a loop, not a memcpy call per row
        for (int64_t c = 0; c < cols; ++c) bpad[p * kVL + c] = g.b[p * g.ldb + j + c];
    alignas(64) float ctile[kVL] = {}, btile[kVL] = {};
    if (g.accumulate) std::memcpy(ctile, g.c + j, sizeof(float) * cols);
    if (g.bias) std::memcpy(btile, g.bias + j, sizeof(float) * cols);
    columns(gemv_cols<1>, bpad.data(), kVL, ctile, g.bias ? btile : nullptr);
    std::memcpy(g.c + j, ctile, sizeof(float) * cols);
}

}  // namespace cairn::simd

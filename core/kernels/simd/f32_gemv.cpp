// f32 GEMV for the simd backend: C[1 x n] (+)= a[1 x k] · B[k x n], the shape of batch-1 inference.
//
// Why not the GEMM's 1-row microkernel: with one row of A there is no reuse of a loaded B vector across rows, so
// the cost per step is the broadcast of a[p] plus the B loads. The GEMM's tile is only NR columns wide (8 on wasm);
// here one broadcast feeds kGemvNV vectors of B, and B (the layer's weights) streams through row by row in its
// stored layout. K is split into the GEMM's blocks, so a row alone gives the same bits as that row in a batch.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/kernels/simd/gemm.h"
#include "core/kernels/simd/simd_mappings.h"

namespace cairn::simd {

namespace {

// NV vectors of columns over k steps. Epilogue as in the GEMM: old C, then bias, then ReLU on the final sum.
template <int NV>
HWY_INLINE void gemv_cols(int64_t k, const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, int64_t ldb,
                          float* HWY_RESTRICT c, const float* HWY_RESTRICT bias, uint32_t flags) {
    vf acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = vzero();
    int64_t p = 0;
    // Two rows of B per iteration, each accumulator still summed in row order (the GEMM's order, so the bits are
    // the same). In wasm this ran 784x256 in 14 µs against 22 µs for one row per iteration: V8 does not unroll, and
    // the loop's own overhead is then paid per 16 vectors instead of 32.
    for (; p + 2 <= k; p += 2, b += 2 * ldb) {
        const vf a0 = vset1(a[p]), a1 = vset1(a[p + 1]);
        for (int v = 0; v < NV; ++v) {
            acc[v] = vfma(a0, vload(b + v * kVL), acc[v]);
            acc[v] = vfma(a1, vload(b + ldb + v * kVL), acc[v]);
        }
    }
    if (p < k) {
        const vf av = vset1(a[p]);
        for (int v = 0; v < NV; ++v) acc[v] = vfma(av, vload(b + v * kVL), acc[v]);
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
extern "C" HWY_NOINLINE void CAIRN_GEMV_NAME(CAIRN_GEMV_NR, CAIRN_ISA)(int64_t k, const float* a, const float* b,
                                                                      int64_t ldb, float* c, const float* bias,
                                                                      uint32_t flags) {
    gemv_cols<kGemvNV>(k, a, b, ldb, c, bias, flags);
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
    // Columns [j, j + width) over every K block, with the GEMM's flags per block (old C, then bias and ReLU last).
    auto columns = [&](auto&& kernel, const float* b, int64_t ldb, float* c, const float* bias) {
        for (int64_t kb = 0; kb < kblocks; ++kb) {
            const int64_t pc = std::min(k, kb * kstep), kc = std::min(kstep, k - pc);
            const bool last = kb == kblocks - 1;
            const uint32_t flags = gemm_k_block_flags(g, pc, last);
            kernel(kc, g.a + pc, b + pc * ldb, ldb, c, last ? bias : nullptr, flags);
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

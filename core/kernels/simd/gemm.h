// The simd backend's GEMM, shared by the simd table (kernels_simd.cpp) and the benchmarks.
#pragma once
#include <cstdint>

#include "core/kernels.h"

namespace cairn::simd {

// Microkernel contract (XNNPACK style, one per tile and ISA, e.g. f32_gemm_8x32__avx512f):
// C[mr x NR] (+)= A · B over kc steps. gemm kernels read row r of A in place at a + r*lda; ppmm kernels read a
// packed panel (for each step p, the MR values of column p, zero padded past the real rows; lda unused).
// B row p is at b + p*ldb with NR readable floats. Flags: load C and
// add to it (accumulate, or a later K block); then, on the last K block, add bias[NR] and clamp at 0.
enum : uint32_t { kGemmLoadC = 1, kGemmRelu = 2 };
using GemmUkernel = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                             int64_t ldc, const float* bias, uint32_t flags);
// The ppmm over listed steps only: C[mr x NR] (+)= sum over i < nsteps of the packed A step steps[i] (its MR
// values at a + steps[i]*mr) times B row steps[i] (at b + steps[i]*ldb); full MR-row panels. Same flags.
using GemmStepsUkernel = void (*)(int64_t nsteps, const int32_t* steps, const float* a, const float* b, int64_t ldb,
                                  float* c, int64_t ldc, const float* bias, uint32_t flags);
// One row of A over one K block: c[gemv_nr] (+)= sum over i < rows of a[idx[i]] · B row idx[i] (at b + idx[i]*ldb,
// gemv_nr floats), the block's nonzero inputs; idx null: a[i] · row i, all of the block. Same flags and epilogue.
using GemvUkernel = void (*)(int64_t rows, const int32_t* idx, const float* a, const float* b, int64_t ldb,
                             float* c, const float* bias, uint32_t flags);

// Chosen once for the ISA this file was compiled for (and the cache sizes it was tuned on).
struct GemmConfig {
    int mr, nr;                       // register tile
    GemmUkernel gemm[17];             // [r]: r rows (r = mr is the full tile), A in place
    GemmUkernel ppmm[17];             // [r]: r rows, A packed (Aᵀ; A too where pack_a_zero_steps)
    GemmStepsUkernel ppmm_steps;      // mr rows, A packed, its all-zero steps left out
    int64_t kc, mc, nc;               // cache blocking over K, M and N
    int64_t pack_b_min_m;             // pack B (not transposed) when m exceeds this
    bool pack_a_zero_steps;           // pack A (not transposed) too, to skip its all-zero steps (ppmm_steps)
    const char* name;                 // the full tile's microkernel, e.g. "f32_gemm_8x32__avx512f"
    GemvUkernel gemv;                 // m = 1 (core/kernels/simd/f32_gemv.cpp), gemv_nr columns per call
    int gemv_nr;
};
// Filled by f32_gemv.cpp, which owns the GEMV tile choice.
void gemv_config(GemmConfig& cfg);
const GemmConfig& gemm_config();

// K is split into equal blocks no larger than cfg.kc (784 = 4 x 196, not 3 x 256 + 16); partial sums pass through C
// between blocks. The GEMM and the GEMV split K the same way, so a sample's result does not depend on the batch it
// is in. k == 0 still gives one (empty) block so the epilogue (C, bias, ReLU) happens.
inline void gemm_k_blocks(const GemmConfig& cfg, int64_t k, int64_t& blocks, int64_t& step) {
    blocks = k > 0 ? (k + cfg.kc - 1) / cfg.kc : 1;
    step = k > 0 ? (k + blocks - 1) / blocks : 1;
}
// A K block's microkernel flags: old C after the first block (or when accumulating), ReLU on the last block's sum.
inline uint32_t gemm_k_block_flags(const GemmArgs& g, int64_t pc, bool last) {
    return ((pc > 0 || g.accumulate) ? kGemmLoadC : 0u) | ((last && g.relu) ? kGemmRelu : 0u);
}

// Zero steps. A step of A that is all zero adds ±0 to a sum that started at +0, which changes no bit, so the GEMM's
// packed panels (a step: MR rows at one k) and the GEMV's row of A (a step: one value) list their other steps and
// run only those. (Only an infinite B value facing a zero would differ: NaN in the dense product, not here.)
// With under 1/8 of the steps zero, running every step is cheaper than looking them up: the list's length, or -1.
inline int64_t listed_or_dense(int64_t nonzero, int64_t kc) { return nonzero * 8 <= kc * 7 ? nonzero : -1; }
// The GEMV's list: the indices of a[0..kc) that are not zero, in order, at steps[0..); listed_or_dense's count.
int64_t nonzero_steps(const float* a, int64_t kc, int32_t* steps);

void gemm(const GemmArgs& g);
// m = 1, A and B not transposed (batch-1 inference): core/kernels/simd/f32_gemv.cpp. gemm() routes there itself.
void gemv(const GemmArgs& g);

}  // namespace cairn::simd

// The simd backend's GEMM, shared by the simd table (kernels_simd.cpp) and the benchmarks.
#pragma once
#include <cstdint>

#include "core/kernels.h"

namespace cairn::simd {

// Microkernel contract (XNNPACK style, one per tile and ISA, e.g. f32_gemm_8x32__avx512f):
// C[mr x nr] (+)= Ap · B over kc steps, where Ap is packed (for each step p, the MR values of column p, zero
// padded past the real rows), and B row p is at b + p*ldb with at least NR readable floats. Flags: load C and
// add to it (accumulate, or a later K block); then, on the last K block, add bias[NR] and clamp at 0.
enum : uint32_t { kGemmLoadC = 1, kGemmRelu = 2 };
using GemmUkernel = void (*)(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                             const float* bias, uint32_t flags);

// Chosen once for the ISA this file was compiled for (and the cache sizes it was tuned on).
struct GemmConfig {
    int mr, nr;                       // register tile
    GemmUkernel ukernel;              // the full MR x NR tile
    GemmUkernel ukernel_rows[16];     // [r] computes r < MR rows (the remainder of M), same NR
    int64_t kc, mc, nc;               // cache blocking over K, M and N
    const char* name;                 // the full tile's microkernel, e.g. "f32_gemm_8x32__avx512f"
};
const GemmConfig& gemm_config();

void gemm(const GemmArgs& g);

}  // namespace cairn::simd

// The one small SIMD vocabulary every simd kernel is written in (ggml's simd-mappings idea).
//
// The vocabulary is mapped onto Highway (Debian's libhwy-dev 1.0.3, header-only, static dispatch): the ISA is
// fixed at compile time by the build flags, so the same source becomes
//   wasm SIMD128 (em++ -msimd128)          4 lanes, no FMA: vfma is a mul then an add
//   AVX-512F + FMA (-march=native here)   16 lanes; AVX2 + FMA 8 lanes; SSE4 4 lanes
// Only header-only parts of Highway are used (no AllocateAligned, no dynamic dispatch), so the wasm build
// needs no compiled Highway library. Kernels use only the names below, never hn:: directly, so moving to
// another SIMD layer (intrinsics, vector extensions) means editing this file alone.
//
// Index of this file
// [SECTION] ISA identification
// [SECTION] Vocabulary
// [SECTION] Math (exp, sigmoid, tanh)
#pragma once
// Static dispatch only: on CPUs whose best target is one Highway 1.0.3 leaves out of its dynamic list unless asked
// (AVX3_DL on Ice Lake and later Xeons), its default target policy stops the build with "best baseline should be
// included in dynamic targets".
#ifndef HWY_COMPILE_ONLY_STATIC
#define HWY_COMPILE_ONLY_STATIC 1
#endif
#include <hwy/highway.h>

#include <cstdint>

namespace cairn::simd {

namespace hn = hwy::HWY_NAMESPACE;

//-----------------------------------------------------------------------------
// [SECTION] ISA identification
//-----------------------------------------------------------------------------

// CAIRN_ISA is pasted into microkernel names (f32_gemm_4x8__wasmsimd), XNNPACK style.
#if HWY_TARGET == HWY_WASM
#define CAIRN_ISA wasmsimd
#elif HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define CAIRN_ISA avx512f
#elif HWY_TARGET == HWY_AVX2
#define CAIRN_ISA avx2
#elif HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
#define CAIRN_ISA sse
#elif HWY_TARGET == HWY_NEON
#define CAIRN_ISA neon
#else
#define CAIRN_ISA scalar
#endif
#define CAIRN_STR2(x) #x
#define CAIRN_STR(x) CAIRN_STR2(x)
#define CAIRN_ISA_NAME CAIRN_STR(CAIRN_ISA)

//-----------------------------------------------------------------------------
// [SECTION] Vocabulary
//-----------------------------------------------------------------------------

using DF = hn::ScalableTag<float>;
using DI = hn::RebindToSigned<DF>;
using vf = hn::Vec<DF>;
using vi = hn::Vec<DI>;
using vmask = hn::Mask<DF>;

constexpr int kVL = HWY_LANES(float);  // floats per vector

HWY_INLINE vf vload(const float* p) { return hn::LoadU(DF(), p); }
HWY_INLINE void vstore(float* p, vf v) { hn::StoreU(v, DF(), p); }
HWY_INLINE vf vset1(float x) { return hn::Set(DF(), x); }  // broadcast
HWY_INLINE vf vzero() { return hn::Zero(DF()); }
HWY_INLINE vf vadd(vf a, vf b) { return hn::Add(a, b); }
HWY_INLINE vf vsub(vf a, vf b) { return hn::Sub(a, b); }
HWY_INLINE vf vmul(vf a, vf b) { return hn::Mul(a, b); }
HWY_INLINE vf vdiv(vf a, vf b) { return hn::Div(a, b); }
HWY_INLINE vf vfma(vf a, vf b, vf c) { return hn::MulAdd(a, b, c); }  // a*b + c (fused if the ISA has FMA)
HWY_INLINE vf vmax(vf a, vf b) { return hn::Max(a, b); }
HWY_INLINE vf vmin(vf a, vf b) { return hn::Min(a, b); }
HWY_INLINE vf vsqrt(vf a) { return hn::Sqrt(a); }
HWY_INLINE vf vabs(vf a) { return hn::Abs(a); }
HWY_INLINE vf vneg(vf a) { return hn::Neg(a); }
HWY_INLINE vmask vgt(vf a, vf b) { return hn::Gt(a, b); }
HWY_INLINE vmask vlt(vf a, vf b) { return hn::Lt(a, b); }
HWY_INLINE vf vselect(vmask m, vf yes, vf no) { return hn::IfThenElse(m, yes, no); }
HWY_INLINE bool vany_nonzero(vf v) { return !hn::AllFalse(DF(), hn::Ne(v, hn::Zero(DF()))); }  // -0 counts as 0
// Stores from out the indices first + lane of v's lanes that are not zero (-0 counts as zero), in lane order, and
// returns how many. All kVL slots at out may be written, so out needs room for kVL even when fewer are kept.
HWY_INLINE int64_t vstore_nonzero_lanes(vf v, int32_t first, int32_t* out) {
    const DI di;
    const auto keep = hn::Ne(v, hn::Zero(DF()));
#if HWY_TARGET == HWY_WASM
    // Highway 1.0.3's wasm Compress assembles its shuffle one byte at a time, slower than a scalar loop; here one
    // i32x4.bitmask picks the row of a 16-row table that lists the kept lanes.
    alignas(16) static constexpr int32_t kKept[16][4] = {
        {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0}, {1, 2, 0, 0},
        {0, 1, 2, 0}, {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0}, {2, 3, 0, 0}, {0, 2, 3, 0},
        {1, 2, 3, 0}, {0, 1, 2, 3}};
    static constexpr uint8_t kCount[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
    const uint32_t bits = wasm_i32x4_bitmask(keep.raw);
    hn::StoreU(hn::Add(hn::Load(di, kKept[bits]), hn::Set(di, first)), di, out);
    return kCount[bits];
#else
    // AVX-512's compress into a register (not its compress-to-memory form, microcoded on AMD Zen 4), a table on
    // narrower ISAs.
    const auto keep_i = hn::RebindMask(di, keep);
    hn::StoreU(hn::Compress(hn::Iota(di, first), keep_i), di, out);
    return int64_t(hn::CountTrue(di, keep_i));
#endif
}
HWY_INLINE vf vcopysign(vf magnitude, vf sign) { return hn::CopySign(magnitude, sign); }
// max(x, 0) that lets NaN through, as the reference and PyTorch do: a NaN must reach the loss so training can
// stop with a clear error. (x86 max returns its second operand when either is NaN, so max(x, 0) would hide it.)
HWY_INLINE vf vrelu(vf x) { return hn::IfThenZeroElse(hn::Lt(x, hn::Zero(DF())), x); }
// Horizontal sum, in double so the final combination of the lanes adds no visible rounding.
HWY_INLINE double vhsum(vf v) {
    alignas(64) float lanes[kVL];
    hn::Store(v, DF(), lanes);
    double s = 0;
    for (int i = 0; i < kVL; ++i) s += lanes[i];
    return s;
}

//-----------------------------------------------------------------------------
// [SECTION] Math (exp, sigmoid, tanh)
//-----------------------------------------------------------------------------

// exp(x) by Cody-Waite range reduction and the Cephes expf polynomial (about 1 ulp). Arguments are clamped to
// [-87.3, 88.3] so the result stays finite and normal; below that the true value underflows and we return 0.
// NaN inputs give NaN outputs (the clamps and polynomials below would turn them into numbers); every transcendental
// here ends with it, so a NaN reaches the loss and training stops with a clear error.
HWY_INLINE vf vkeep_nan(vf in, vf out) { return hn::IfThenElse(hn::IsNaN(in), in, out); }

HWY_INLINE vf vexp(vf x) {
    const vf in = x;
    const vf lo = vset1(-87.33654f);
    const vmask under = vlt(x, lo);
    x = vmin(vmax(x, lo), vset1(88.3762626647949f));
    const vf n = hn::Round(vmul(x, vset1(1.44269504088896341f)));
    vf r = vsub(x, vmul(n, vset1(0.693359375f)));  // ln2 split in a part exact in n*hi and a correction
    r = vsub(r, vmul(n, vset1(-2.12194440e-4f)));
    vf p = vset1(1.9875691500e-4f);
    p = vfma(p, r, vset1(1.3981999507e-3f));
    p = vfma(p, r, vset1(8.3334519073e-3f));
    p = vfma(p, r, vset1(4.1665795894e-2f));
    p = vfma(p, r, vset1(1.6666665459e-1f));
    p = vfma(p, r, vset1(5.0000001201e-1f));
    p = vfma(p, vmul(r, r), vadd(r, vset1(1.0f)));
    // 2^n built in the exponent field; n is in [-126, 127] after the clamp.
    const vi e = hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(DI(), n), hn::Set(DI(), 127)));
    return vkeep_nan(in, vselect(under, vzero(), vmul(p, hn::BitCast(DF(), e))));
}

// 1 / (1 + exp(-x)); exp's argument is kept finite so the backward formulas never see inf * 0.
HWY_INLINE vf vsigmoid(vf x) { return vdiv(vset1(1.0f), vadd(vset1(1.0f), vexp(vneg(x)))); }

// tanh: odd Cephes polynomial near zero (where 1 - 2/(e^2x + 1) would cancel), the exp form elsewhere.
HWY_INLINE vf vtanh(vf x) {
    const vf ax = vabs(x);
    const vf s = vmul(x, x);
    vf p = vset1(-5.70498872745e-3f);
    p = vfma(p, s, vset1(2.06390887954e-2f));
    p = vfma(p, s, vset1(-5.37397155531e-2f));
    p = vfma(p, s, vset1(1.33314422036e-1f));
    p = vfma(p, s, vset1(-3.33332819422e-1f));
    const vf small = vfma(vmul(p, s), x, x);
    const vf e = vexp(vmin(vadd(ax, ax), vset1(88.0f)));
    const vf big = vsub(vset1(1.0f), vdiv(vset1(2.0f), vadd(e, vset1(1.0f))));
    return vkeep_nan(x, vselect(vlt(ax, vset1(0.625f)), small, vcopysign(big, x)));
}

}  // namespace cairn::simd

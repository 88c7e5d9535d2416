// The roofline's ceiling: the best rate of 128-bit float multiply-then-add this build can issue. wasm SIMD128 has no
// FMA, so mul + add on f32x4 is its best case; natively the same 128-bit code is built, which is NOT the native
// peak (AVX-512 FMA does 8x the work per instruction). Independent chains keep every unit busy. FLOP/s, best of 3.
// Not inlined: V8 tiers a wasm function up between calls, so callers call it repeatedly and keep the best.
// One repetition is ~20 MFLOP (about 0.4 ms): a cross-origin isolated page's clock has 5 µs steps, and over a
// 35 µs loop the best of many readings came out one step short, overstating the peak by up to 14%.
#pragma once
#include <algorithm>

template <class Clock>
__attribute__((noinline)) double simd128_muladd_peak_flops(Clock now_s, float& sink) {
    typedef float v4 __attribute__((vector_size(16)));
    constexpr int kChains = 12, kIters = 200000;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        v4 acc[kChains];
        for (int j = 0; j < kChains; ++j) acc[j] = v4{1.0f, 1.0f, 1.0f, 1.0f} * float(j + 1) * 1e-3f;
        const v4 m = {0.9999f, 0.9998f, 0.9997f, 0.9996f}, a = {1e-6f, 2e-6f, 3e-6f, 4e-6f};
        const double t0 = now_s();
        for (int i = 0; i < kIters; ++i)
            for (int j = 0; j < kChains; ++j) acc[j] = acc[j] * m + a;
        const double dt = now_s() - t0;
        for (int j = 0; j < kChains; ++j) sink += acc[j][0] + acc[j][1] + acc[j][2] + acc[j][3];
        best = std::max(best, double(kIters) * kChains * 8 / dt);
    }
    return best;
}

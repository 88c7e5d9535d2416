// Deterministic random numbers: the same seed gives the same stream on every platform and build (std::mt19937
// is portable but std::*_distribution is not, so distributions are written here).
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace cairn {

// PCG32 (O'Neill, pcg-random.org): small state, good statistics, fully specified.
class Rng {
public:
    explicit Rng(uint64_t seed = 0, uint64_t stream = 0x853c49e6748fea9bULL) {
        inc_ = (stream << 1u) | 1u;
        next_u32();
        state_ += seed;
        next_u32();
    }
    uint32_t next_u32() {
        uint64_t old = state_;
        state_ = old * 6364136223846793005ULL + inc_;
        uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
        uint32_t rot = static_cast<uint32_t>(old >> 59u);
        return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
    }
    // Uniform in [0, 1) with 24 random bits (exactly representable as float).
    float uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }
    float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [0, n), unbiased (Lemire's method with rejection).
    uint32_t below(uint32_t n) {
        uint64_t m = static_cast<uint64_t>(next_u32()) * n;
        uint32_t low = static_cast<uint32_t>(m);
        if (low < n) {
            uint32_t threshold = (0u - n) % n;
            while (low < threshold) {
                m = static_cast<uint64_t>(next_u32()) * n;
                low = static_cast<uint32_t>(m);
            }
        }
        return static_cast<uint32_t>(m >> 32);
    }
    // Standard normal (Box-Muller; one value per call, the second is dropped for simplicity of state).
    float normal() {
        float u1 = uniform(), u2 = uniform();
        if (u1 < 1e-7f) u1 = 1e-7f;
        return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530717958647692f * u2);
    }
    template <class T> void shuffle(std::vector<T>& v) {  // Fisher-Yates
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(static_cast<uint32_t>(i))]);
    }

private:
    uint64_t state_ = 0, inc_ = 0;
};

}  // namespace cairn

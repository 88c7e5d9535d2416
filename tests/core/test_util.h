// Helpers shared by the core tests (natively, and in wasm where NODERAWFS gives the real file system).
#pragma once
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace cairn::test {

// The whole file, or an empty string when it cannot be opened (tests decide whether that means skip or fail).
inline std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline std::vector<uint8_t> read_file_bytes(const std::string& path) {
    std::string s = read_file(path);
    return std::vector<uint8_t>(s.begin(), s.end());
}

constexpr double kU = 1.0 / (1 << 24);  // unit roundoff of float

// Floating-point error bound of a k-term sum: gamma_k * sum|a_i b_i|, gamma_k = k*u/(1-k*u) (Higham, Accuracy and
// Stability of Numerical Algorithms, 3.1).
inline double gamma_k(int64_t k) { return (k * kU) / (1 - k * kU); }

inline std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// Zeros in op(A) (m x k, row-major with lda, or stored transposed) laid out as image pixels lie: row blocks of 8
// alternate with step blocks of 5 between zero and random, every third row block has no zeros, and row 16q+5 is all
// zeros. So a 4-row panel meets steps that are all zero, partly zero and not zero, and some panels have none.
inline void zero_runs_in(std::vector<float>& a, int64_t m, int64_t k, int64_t lda, bool transposed) {
    for (int64_t i = 0; i < m; ++i)
        for (int64_t p = 0; p < k; ++p) {
            const int64_t blk = i / 8;
            const bool zero = (blk % 3 != 2 && (blk + p / 5) % 2 == 0) || i % 16 == 5;
            if (zero) a[transposed ? p * lda + i : i * lda + p] = 0.f;
        }
}

}  // namespace cairn::test

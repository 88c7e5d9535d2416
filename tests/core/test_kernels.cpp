// Every op of every backend against the reference backend, ggml test-backend-ops style.
//
// Tolerances are derived, not tuned:
// - GEMM / reductions / convolutions: a float dot product of length k differs from the exact value by at most
//   gamma_k * sum|a_i b_i| with gamma_k = k*u/(1-k*u), u = 2^-24 (Higham, Accuracy and Stability, 3.1). The
//   reference accumulates in double, so it is exact to far below that; we allow gamma_(k+2) (bias and
//   accumulate add two more roundings) of the sum of absolute products, per element.
// - Transcendentals (exp, tanh, GELU): SIMD backends use polynomial approximations with a few ulps of error;
//   we allow 8 ulps relative (8 * 2^-23 ~ 1e-6) plus an absolute 1e-6 near zero, where relative error is
//   meaningless for functions that cross zero.
// - Exact ops (add, mul, scale, ReLU, transpose, im2col, max-pool, copies) must match bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/kernels.h"
#include "tests/core/test_util.h"

using namespace cairn;
using namespace cairn::test;

namespace {

class Backend : public ::testing::TestWithParam<const Kernels*> {
protected:
    const Kernels& k() { return *GetParam(); }
    const Kernels& ref() { return reference_kernels(); }
};

std::string backend_name(const ::testing::TestParamInfo<const Kernels*>& info) { return info.param->name; }

//-----------------------------------------------------------------------------
// GEMM
//-----------------------------------------------------------------------------

struct GemmCase {
    int64_t m, n, k;
    bool ta, tb, bias, acc, relu;
    int64_t pad;  // extra elements per row: non-contiguous (strided) views
    bool zero_runs = false;  // op(A) with blocks of zeros, as in images (see zero_runs_in)
};

void check_gemm(const Kernels& kern, const GemmCase& gc) {
    int64_t lda = (gc.ta ? gc.m : gc.k) + gc.pad, ldb = (gc.tb ? gc.k : gc.n) + gc.pad, ldc = gc.n + gc.pad;
    int64_t arows = gc.ta ? gc.k : gc.m, brows = gc.tb ? gc.n : gc.k;
    auto a = random_vec(arows * lda, 1 + gc.m), b = random_vec(brows * ldb, 2 + gc.n);
    if (gc.zero_runs) zero_runs_in(a, gc.m, gc.k, lda, gc.ta);
    auto bias = random_vec(gc.n, 3), c0 = random_vec(gc.m * ldc, 4);
    auto c = c0, cref = c0;
    GemmArgs g;
    g.m = gc.m; g.n = gc.n; g.k = gc.k;
    g.a = a.data(); g.lda = lda; g.trans_a = gc.ta;
    g.b = b.data(); g.ldb = ldb; g.trans_b = gc.tb;
    g.ldc = ldc; g.bias = gc.bias ? bias.data() : nullptr; g.accumulate = gc.acc; g.relu = gc.relu;
    g.c = cref.data(); reference_kernels().gemm(g);
    g.c = c.data(); kern.gemm(g);
    for (int64_t i = 0; i < gc.m; ++i) {
        for (int64_t j = 0; j < gc.n; ++j) {
            double mag = 0;
            for (int64_t p = 0; p < gc.k; ++p) {
                float av = gc.ta ? a[p * lda + i] : a[i * lda + p];
                float bv = gc.tb ? b[j * ldb + p] : b[p * ldb + j];
                mag += std::fabs(double(av) * bv);
            }
            if (gc.acc) mag += std::fabs(c0[i * ldc + j]);
            if (gc.bias) mag += std::fabs(bias[j]);
            double tol = gamma_k(gc.k + 2) * mag + 1e-30;
            ASSERT_NEAR(c[i * ldc + j], cref[i * ldc + j], tol)
                << kern.name << " gemm m=" << gc.m << " n=" << gc.n << " k=" << gc.k << " ta=" << gc.ta
                << " tb=" << gc.tb << " at (" << i << "," << j << ")";
        }
        // Padding between rows must be left alone.
        for (int64_t j = gc.n; j < ldc; ++j) ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]) << "wrote into padding";
    }
}

TEST_P(Backend, GemmAllFormsAwkwardShapes) {
    const int64_t sizes[] = {1, 3, 17, 255};
    for (int64_t m : sizes)
        for (int64_t n : sizes)
            for (int64_t kk : {int64_t(1), int64_t(3), int64_t(17), int64_t(255)})
                for (int form = 0; form < 3; ++form) {  // A·B, A·Bᵀ, Aᵀ·B
                    GemmCase gc{m, n, kk, form == 2, form == 1, false, false, false, 0};
                    check_gemm(k(), gc);
                }
}

TEST_P(Backend, GemmLargeAndFused) {
    check_gemm(k(), {1000, 17, 255, false, false, true, false, true, 0});
    check_gemm(k(), {64, 256, 784, false, false, true, false, true, 0});
    check_gemm(k(), {1, 256, 784, false, false, true, false, false, 0});
    check_gemm(k(), {64, 1000, 3, false, true, true, true, false, 0});
    check_gemm(k(), {255, 128, 64, true, false, false, true, false, 0});
    check_gemm(k(), {17, 3, 1000, true, false, false, false, true, 0});
}

// Blocking boundaries of the simd driver (K blocks of at most 1024 that hand partial sums through C, N blocks
// of 1024, M blocks of 128) and k = 0, where C is only (accumulated,) biased and clamped.
TEST_P(Backend, GemmBlockingAndEmptyK) {
    for (int form = 0; form < 3; ++form) {
        check_gemm(k(), {19, 45, 2100, form == 2, form == 1, true, true, true, 0});
        check_gemm(k(), {37, 1100, 40, form == 2, form == 1, true, false, true, 3});
        check_gemm(k(), {300, 9, 20, form == 2, form == 1, false, true, false, 0});
        check_gemm(k(), {5, 7, 0, form == 2, form == 1, true, true, true, 0});
        check_gemm(k(), {5, 7, 0, form == 2, form == 1, false, false, false, 2});
    }
}

// A packed A panel runs only its steps that are not all zero: Aᵀ·B always packs A (a first layer's weight gradient,
// Xᵀ·dZ, over image pixels), A·B does where the config packs A for it (wasm's 4-row tile: X·W over image pixels).
// Against the reference, which no skipped nonzero step could match, and bit for bit between the two layouts of the
// same A, with K split into blocks and ragged panels.
TEST_P(Backend, ZeroRunsInASkipNothingThatCounts) {
    for (const auto& [m, n, kk] : {std::array<int64_t, 3>{200, 40, 300}, {37, 20, 64}, {8, 9, 11}, {64, 256, 784}}) {
        for (bool ta : {true, false})
            for (int variant = 0; variant < 2; ++variant)
                check_gemm(k(), {m, n, kk, ta, false, variant == 1, variant == 1, variant == 0, variant, true});
        if (std::string(k().name) != "simd") continue;
        std::vector<float> at = random_vec(kk * m, 7), a(m * kk), b = random_vec(kk * n, 8), c1(m * n), c2(m * n);
        zero_runs_in(at, m, kk, m, true);
        for (int64_t p = 0; p < kk; ++p)
            for (int64_t i = 0; i < m; ++i) a[i * kk + p] = at[p * m + i];
        GemmArgs g;
        g.m = m; g.n = n; g.k = kk; g.b = b.data(); g.ldb = n; g.ldc = n;
        g.a = at.data(); g.lda = m; g.trans_a = true; g.c = c1.data();
        k().gemm(g);
        g.a = a.data(); g.lda = kk; g.trans_a = false; g.c = c2.data();
        k().gemm(g);
        ASSERT_EQ(0, std::memcmp(c1.data(), c2.data(), sizeof(float) * c1.size())) << "m=" << m << " n=" << n << " k=" << kk;
    }
}

// One row of A (batch-1 inference) takes the simd backend's GEMV: blocks of 8 vectors, single vectors, then
// scalar columns. These widths hit each path and their seams on every ISA (vectors of 4, 8 or 16 floats).
TEST_P(Backend, GemvEveryColumnPath) {
    for (int64_t n : {1, 3, 4, 5, 16, 31, 32, 33, 47, 64, 127, 128, 129, 145, 1000})
        for (int flags = 0; flags < 8; ++flags)
            check_gemm(k(), {1, n, 300, false, false, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, n % 3});
    check_gemm(k(), {1, 40, 0, false, false, true, true, true, 1});  // k = 0: only C, bias and ReLU
}

// A sample's output must not depend on the batch it is in: each row of a batched product equals, bit for bit, the
// product of that row alone (the GEMV path), including K long enough to be split into blocks and every column path.
// The rows have zeros as inputs of ReLU layers and images do (the GEMV skips them): row 0 none, row 1 all, row 2
// every other input, rows 3 and 4 about half, in runs.
TEST_P(Backend, OneRowEqualsItsRowInABatch) {
    for (int64_t kk : {int64_t(7), int64_t(784), int64_t(2100)})
        for (int64_t n : {int64_t(3), int64_t(10), int64_t(129), int64_t(256)}) {
            const int64_t m = 5;
            auto a = random_vec(m * kk, 40), b = random_vec(kk * n, 41), bias = random_vec(n, 42);
            for (int64_t p = 0; p < kk; ++p) {
                a[1 * kk + p] = 0.f;
                if (p % 2) a[2 * kk + p] = 0.f;
                if ((p / 5) % 2) a[3 * kk + p] = 0.f;
                if (a[4 * kk + p] < 0) a[4 * kk + p] = 0.f;
            }
            std::vector<float> batch(m * n), one(n);
            GemmArgs g;
            g.m = m; g.n = n; g.k = kk; g.a = a.data(); g.lda = kk; g.b = b.data(); g.ldb = n; g.c = batch.data(); g.ldc = n;
            g.bias = bias.data(); g.relu = true;
            k().gemm(g);
            for (int64_t i = 0; i < m; ++i) {
                g.m = 1; g.a = a.data() + i * kk; g.c = one.data();
                k().gemm(g);
                ASSERT_EQ(0, std::memcmp(one.data(), batch.data() + i * n, sizeof(float) * n))
                    << k().name << ": row " << i << " of a batch of " << m << " differs from it alone, k=" << kk << " n=" << n;
            }
        }
}

TEST_P(Backend, GemmStridedViews) {
    for (int form = 0; form < 3; ++form) {
        check_gemm(k(), {17, 33, 65, form == 2, form == 1, true, false, false, 5});
        check_gemm(k(), {64, 64, 64, form == 2, form == 1, false, true, true, 1});
    }
}

//-----------------------------------------------------------------------------
// Elementwise and activations
//-----------------------------------------------------------------------------

const int64_t kLengths[] = {1, 3, 17, 255, 1000};

TEST_P(Backend, ElementwiseExact) {
    for (int64_t n : kLengths) {
        auto a = random_vec(n, 11), b = random_vec(n, 12);
        std::vector<float> y(n), yr(n);
        k().add(a.data(), b.data(), y.data(), n); ref().add(a.data(), b.data(), yr.data(), n);
        EXPECT_EQ(y, yr) << "add n=" << n;
        k().mul(a.data(), b.data(), y.data(), n); ref().mul(a.data(), b.data(), yr.data(), n);
        EXPECT_EQ(y, yr) << "mul n=" << n;
        k().scale(a.data(), 0.37f, y.data(), n); ref().scale(a.data(), 0.37f, yr.data(), n);
        EXPECT_EQ(y, yr) << "scale n=" << n;
        // axpy may contract to an FMA (one rounding instead of two): within one ulp of |y|+|alpha x|.
        y = b; yr = b;
        k().axpy(-1.5f, a.data(), y.data(), n); ref().axpy(-1.5f, a.data(), yr.data(), n);
        for (int64_t i = 0; i < n; ++i)
            ASSERT_NEAR(y[i], yr[i], 2 * kU * (std::fabs(b[i]) + 1.5 * std::fabs(a[i]))) << "axpy n=" << n;
        // In place: y aliases a.
        auto inplace = a;
        k().add(inplace.data(), b.data(), inplace.data(), n); ref().add(a.data(), b.data(), yr.data(), n);
        EXPECT_EQ(inplace, yr) << "add in place n=" << n;
    }
}

TEST_P(Backend, Activations) {
    const Act acts[] = {Act::identity, Act::relu, Act::leaky_relu, Act::sigmoid, Act::tanh, Act::gelu};
    for (Act a : acts)
        for (int64_t n : kLengths) {
            // Wide range: saturation of sigmoid/tanh and large-argument exp must be right too.
            auto x = random_vec(n, 21 + n, -12, 12), dy = random_vec(n, 22 + n);
            std::vector<float> y(n), yr(n), dx(n), dxr(n);
            k().act_forward(a, 0.01f, x.data(), y.data(), n);
            ref().act_forward(a, 0.01f, x.data(), yr.data(), n);
            k().act_backward(a, 0.01f, x.data(), y.data(), dy.data(), dx.data(), n);
            ref().act_backward(a, 0.01f, x.data(), yr.data(), dy.data(), dxr.data(), n);
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_NEAR(y[i], yr[i], 8 * 2 * kU * std::fabs(yr[i]) + 1e-6)
                    << act_name(a) << " forward x=" << x[i];
                ASSERT_NEAR(dx[i], dxr[i], 8 * 2 * kU * std::fabs(dxr[i]) + 1e-6)
                    << act_name(a) << " backward x=" << x[i];
            }
        }
}

// A NaN must survive every activation (fused or not) and softmax, as in the reference and PyTorch, so that
// training notices it and stops with a clear error.
TEST_P(Backend, NaNPropagates) {
    const Act acts[] = {Act::identity, Act::relu, Act::leaky_relu, Act::sigmoid, Act::tanh, Act::gelu};
    for (Act a : acts)
        for (int64_t n : kLengths) {
            std::vector<float> x = random_vec(n, 25), y(n);
            x[n / 2] = NAN;
            k().act_forward(a, 0.01f, x.data(), y.data(), n);
            EXPECT_TRUE(std::isnan(y[n / 2])) << act_name(a) << " n=" << n;
        }
    // XNNPACK's own softmax and GEMM microkernels use x86 max/min, which drop NaN whatever we ask; that backend only
    // runs frozen models (inference), never training, so only its activations are held to this.
    if (std::string(k().name) == "xnnpack") return;
    for (int64_t cols : {1, 3, 17}) {
        std::vector<float> x = random_vec(2 * cols, 28), y(2 * cols);
        x[cols + cols / 2] = NAN;  // second row only
        k().softmax_rows(x.data(), cols, y.data(), cols, 2, cols);
        EXPECT_TRUE(std::isnan(y[cols + cols / 2])) << "softmax cols=" << cols;
        EXPECT_FALSE(std::isnan(y[0])) << "softmax: a NaN leaked into another row";
        k().log_softmax_rows(x.data(), cols, y.data(), cols, 2, cols);
        EXPECT_TRUE(std::isnan(y[cols + cols / 2])) << "log_softmax cols=" << cols;
    }
    for (int64_t m : {1, 3, 17}) {
        int64_t kk = 5, n = 33;
        auto a = random_vec(m * kk, 26), b = random_vec(kk * n, 27);
        a[(m - 1) * kk] = NAN;
        std::vector<float> c(m * n);
        GemmArgs g;
        g.m = m; g.n = n; g.k = kk; g.a = a.data(); g.lda = kk; g.b = b.data(); g.ldb = n; g.c = c.data(); g.ldc = n;
        g.relu = true;
        k().gemm(g);
        for (int64_t j = 0; j < n; ++j) ASSERT_TRUE(std::isnan(c[(m - 1) * n + j])) << "gemm relu m=" << m << " j=" << j;
    }
}

TEST_P(Backend, SoftmaxRows) {
    for (int64_t cols : {1, 3, 10, 17, 255}) {
        int64_t rows = 33, ld = cols + 3;
        auto x = random_vec(rows * ld, 31 + cols, -30, 30);
        x[0] = 80.f;  // exp overflow without max-subtraction
        std::vector<float> y(rows * ld, -7.f), yr(rows * ld, -7.f);
        k().softmax_rows(x.data(), ld, y.data(), ld, rows, cols);
        ref().softmax_rows(x.data(), ld, yr.data(), ld, rows, cols);
        for (int64_t i = 0; i < rows * ld; ++i)
            ASSERT_NEAR(y[i], yr[i], 8 * 2 * kU * std::fabs(yr[i]) + 1e-7) << "softmax cols=" << cols << " i=" << i;
        k().log_softmax_rows(x.data(), ld, y.data(), ld, rows, cols);
        ref().log_softmax_rows(x.data(), ld, yr.data(), ld, rows, cols);
        for (int64_t i = 0; i < rows * ld; ++i)
            ASSERT_NEAR(y[i], yr[i], 8 * 2 * kU * std::fabs(yr[i]) + 1e-5) << "log_softmax cols=" << cols;
    }
}

TEST_P(Backend, Reductions) {
    for (int64_t rows : {1, 3, 17, 255, 1000})
        for (int64_t cols : {1, 3, 17, 255}) {
            int64_t ld = cols + 2;
            auto x = random_vec(rows * ld, 41 + rows + cols);
            std::vector<float> s(cols), sr(cols), t(rows), tr(rows);
            k().sum_over_rows(x.data(), ld, rows, cols, s.data());
            ref().sum_over_rows(x.data(), ld, rows, cols, sr.data());
            for (int64_t c = 0; c < cols; ++c) {
                double mag = 0;
                for (int64_t r = 0; r < rows; ++r) mag += std::fabs(x[r * ld + c]);
                ASSERT_NEAR(s[c], sr[c], gamma_k(rows) * mag + 1e-30) << "sum_over_rows " << rows << "x" << cols;
            }
            k().sum_over_cols(x.data(), ld, rows, cols, t.data());
            ref().sum_over_cols(x.data(), ld, rows, cols, tr.data());
            for (int64_t r = 0; r < rows; ++r) {
                double mag = 0;
                for (int64_t c = 0; c < cols; ++c) mag += std::fabs(x[r * ld + c]);
                ASSERT_NEAR(t[r], tr[r], gamma_k(cols) * mag + 1e-30) << "sum_over_cols " << rows << "x" << cols;
            }
        }
}

// Float partial sums flushed into a double every few thousand elements: the error bound of a float sum over one
// block (gamma of the block length) holds for any n, so long gradients (200k parameters) stay accurate.
TEST_P(Backend, DotProduct) {
    for (int64_t n : {0, 1, 3, 17, 255, 1000, 4099, 200704}) {
        auto a = random_vec(n, 50), b = random_vec(n, 51);
        double mag = 0;
        for (int64_t i = 0; i < n; ++i) mag += std::fabs(double(a[i]) * b[i]);
        ASSERT_NEAR(k().dot(a.data(), b.data(), n), ref().dot(a.data(), b.data(), n), gamma_k(4096 + 2) * mag + 1e-30)
            << "dot n=" << n;
    }
}

TEST_P(Backend, TransposeExact) {
    for (int64_t rows : {1, 3, 17, 255})
        for (int64_t cols : {1, 3, 17, 1000}) {
            auto x = random_vec(rows * (cols + 1), 51);
            std::vector<float> y(cols * (rows + 2), 0.f), yr = y;
            k().transpose(x.data(), cols + 1, y.data(), rows + 2, rows, cols);
            ref().transpose(x.data(), cols + 1, yr.data(), rows + 2, rows, cols);
            ASSERT_EQ(y, yr) << "transpose " << rows << "x" << cols;
        }
}

//-----------------------------------------------------------------------------
// Convolution and pooling
//-----------------------------------------------------------------------------

Conv2dShape conv_shape(int64_t b, int64_t h, int64_t w, int64_t ic, int64_t oc, int64_t kh, int64_t kw,
                       int64_t stride, bool same) {
    Conv2dShape s;
    s.batch = b; s.in_h = h; s.in_w = w; s.in_c = ic; s.out_c = oc; s.kernel_h = kh; s.kernel_w = kw;
    s.stride_h = s.stride_w = stride;
    if (same) {
        s.out_h = (h + stride - 1) / stride; s.out_w = (w + stride - 1) / stride;
        s.pad_top = std::max<int64_t>(0, ((s.out_h - 1) * stride + kh - h) / 2);
        s.pad_left = std::max<int64_t>(0, ((s.out_w - 1) * stride + kw - w) / 2);
    } else {
        s.out_h = (h - kh) / stride + 1; s.out_w = (w - kw) / stride + 1;
    }
    return s;
}

// Sum over the taps of |x|*|w| bounds the rounding error of each output like a dot product of length patch.
TEST_P(Backend, Conv2dForwardAndGradients) {
    const Conv2dShape shapes[] = {
        conv_shape(2, 7, 5, 3, 4, 3, 3, 1, true),  conv_shape(1, 28, 28, 1, 16, 3, 3, 1, true),
        conv_shape(3, 9, 9, 2, 5, 3, 3, 2, true),  conv_shape(2, 8, 6, 3, 2, 3, 2, 1, false),
        conv_shape(1, 5, 5, 17, 3, 1, 1, 1, false), conv_shape(4, 14, 14, 16, 32, 3, 3, 1, true),
    };
    for (const Conv2dShape& s : shapes) {
        int64_t nx = s.batch * s.in_h * s.in_w * s.in_c, nw = s.patch() * s.out_c, ny = s.pixels() * s.out_c;
        auto x = random_vec(nx, 61), w = random_vec(nw, 62), bias = random_vec(s.out_c, 63), dy = random_vec(ny, 64);
        std::vector<float> work(conv2d_workspace(s));
        std::vector<float> y(ny), yr(ny), dx(nx), dxr(nx), dw(nw), dwr(nw), db(s.out_c), dbr(s.out_c);
        std::string what = std::to_string(s.batch) + "x" + std::to_string(s.in_h) + "x" + std::to_string(s.in_w) +
                           "x" + std::to_string(s.in_c) + " k" + std::to_string(s.kernel_h) + " s" +
                           std::to_string(s.stride_h) + " oc" + std::to_string(s.out_c);
        for (bool relu : {false, true}) {
            k().conv2d_forward(s, x.data(), w.data(), bias.data(), relu, y.data(), work.data());
            ref().conv2d_forward(s, x.data(), w.data(), bias.data(), relu, yr.data(), work.data());
            for (int64_t i = 0; i < ny; ++i)
                ASSERT_NEAR(y[i], yr[i], gamma_k(s.patch() + 1) * (s.patch() + 1)) << "conv forward " << what;
        }
        k().conv2d_backward_data(s, dy.data(), w.data(), dx.data(), work.data());
        ref().conv2d_backward_data(s, dy.data(), w.data(), dxr.data(), work.data());
        for (int64_t i = 0; i < nx; ++i)
            ASSERT_NEAR(dx[i], dxr[i], gamma_k(s.patch() * s.out_c) * s.kernel_h * s.kernel_w * s.out_c)
                << "conv backward data " << what;
        k().conv2d_backward_filter(s, x.data(), dy.data(), dw.data(), db.data(), work.data());
        ref().conv2d_backward_filter(s, x.data(), dy.data(), dwr.data(), dbr.data(), work.data());
        for (int64_t i = 0; i < nw; ++i)
            ASSERT_NEAR(dw[i], dwr[i], gamma_k(s.pixels()) * s.pixels()) << "conv backward filter " << what;
        for (int64_t i = 0; i < s.out_c; ++i)
            ASSERT_NEAR(db[i], dbr[i], gamma_k(s.pixels()) * s.pixels()) << "conv backward bias " << what;
    }
}

TEST_P(Backend, Im2colExact) {
    for (const Conv2dShape& s : {conv_shape(2, 7, 5, 3, 4, 3, 3, 1, true), conv_shape(3, 9, 9, 2, 5, 3, 3, 2, true)}) {
        int64_t nx = s.batch * s.in_h * s.in_w * s.in_c;
        auto x = random_vec(nx, 71);
        std::vector<float> c(conv2d_workspace(s)), cr(c.size());
        k().im2col(s, x.data(), c.data());
        ref().im2col(s, x.data(), cr.data());
        ASSERT_EQ(c, cr);
        std::vector<float> dx(nx, 0.f), dxr(nx, 0.f);
        k().col2im(s, c.data(), dx.data());
        ref().col2im(s, cr.data(), dxr.data());
        for (int64_t i = 0; i < nx; ++i) ASSERT_NEAR(dx[i], dxr[i], gamma_k(9) * 9);
    }
}

TEST_P(Backend, MaxPoolExact) {
    for (auto [n, h, w, c] : std::vector<std::array<int64_t, 4>>{{1, 2, 2, 1}, {2, 28, 28, 16}, {3, 7, 5, 3}, {1, 14, 14, 32}}) {
        auto x = random_vec(n * h * w * c, 81);
        int64_t count = n * (h / 2) * (w / 2) * c;
        std::vector<float> y(count), yr(count), dy = random_vec(count, 82);
        std::vector<int32_t> am(count), amr(count);
        k().maxpool2x2_forward(x.data(), n, h, w, c, y.data(), am.data());
        ref().maxpool2x2_forward(x.data(), n, h, w, c, yr.data(), amr.data());
        ASSERT_EQ(y, yr);
        ASSERT_EQ(am, amr);
        std::vector<float> dx(x.size(), 0.f), dxr(x.size(), 0.f);
        k().maxpool2x2_backward(dy.data(), am.data(), count, dx.data());
        ref().maxpool2x2_backward(dy.data(), amr.data(), count, dxr.data());
        ASSERT_EQ(dx, dxr);
    }
}

TEST_P(Backend, AdamUpdate) {
    for (int64_t n : kLengths) {
        auto w = random_vec(n, 91), g = random_vec(n, 92), m = random_vec(n, 93), v = random_vec(n, 94, 0, 1);
        auto wr = w, mr = m, vr = v;
        k().adam_update(w.data(), g.data(), m.data(), v.data(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-5f);
        ref().adam_update(wr.data(), g.data(), mr.data(), vr.data(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-5f);
        for (int64_t i = 0; i < n; ++i) {
            // A handful of roundings each; sqrt and division are correctly rounded in IEEE and SIMD alike.
            ASSERT_NEAR(m[i], mr[i], 4 * kU * (std::fabs(mr[i]) + std::fabs(g[i])));
            ASSERT_NEAR(v[i], vr[i], 4 * kU * (std::fabs(vr[i]) + g[i] * g[i]));
            ASSERT_NEAR(w[i], wr[i], 4 * kU * std::fabs(wr[i]) + 1e-3 * 8 * kU * 10);
        }
    }
}

std::vector<const Kernels*> backends_under_test() {
    std::vector<const Kernels*> out;
    for (const Kernels* kk : available_kernels())
        if (std::string(kk->name) != "reference") out.push_back(kk);
    return out;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(AllBackends, Backend, ::testing::ValuesIn(backends_under_test()), backend_name);

TEST(KernelSelection, UnknownNameIsAClearError) {
    try {
        set_kernels("avx9000");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "invalid_argument");
        EXPECT_NE(std::string(e.what()).find("avx9000"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("reference"), std::string::npos);
    }
}

// Tensor-level ops: results against direct loops, and the shape errors they promise.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/error.h"
#include "core/ops.h"
#include "core/random.h"

using namespace cairn;

namespace {
Tensor random_tensor(const Shape& s, uint64_t seed) {
    Rng rng(seed);
    Tensor t = Tensor::empty(s);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(-1, 1);
    return t;
}
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code() + ": " + e.what();
    }
    return "";
}
}  // namespace

TEST(Ops, MatmulTransposesBiasReluAndStridedViews) {
    Tensor a = random_tensor({5, 4}, 1), b = random_tensor({3, 4}, 2), bias = random_tensor({3}, 3);
    ops::MatmulDesc d;
    d.trans_b = true;
    d.bias = &bias;
    d.relu = true;
    Tensor c = ops::matmul(a, b, d);
    ASSERT_EQ(c.shape(), (Shape{5, 3}));
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 3; ++j) {
            double s = bias.data()[j];
            for (int k = 0; k < 4; ++k) s += a.at({i, k}) * b.at({j, k});
            EXPECT_NEAR(c.at({i, j}), std::max(s, 0.0), 1e-5);
        }
    // A column slice is a strided row view: the kernels take it without a copy.
    Tensor wide = random_tensor({4, 6}, 4);
    Tensor view = wide.slice(1, 1, 4);
    Tensor e = ops::matmul(a, view);
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 3; ++j) {
            double s = 0;
            for (int k = 0; k < 4; ++k) s += a.at({i, k}) * wide.at({k, j + 1});
            EXPECT_NEAR(e.at({i, j}), s, 1e-5);
        }
    std::string err = error_of([&] { ops::matmul(a, a); });
    EXPECT_NE(err.find("shape_mismatch"), std::string::npos);
    EXPECT_NE(err.find("[5, 4]"), std::string::npos) << err;
}

TEST(Ops, ElementwiseRowsAndReductions) {
    Tensor x = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6}), v = Tensor::from({3}, {10, 20, 30});
    Tensor y = x.clone();
    ops::mul_rows_(y, v);
    ops::add_rows_(y, v);
    EXPECT_EQ(y.at({1, 2}), 6 * 30 + 30);
    Tensor cs = ops::sum_rows(x), rs = ops::sum_cols(x);
    EXPECT_EQ(cs.data()[0], 5);
    EXPECT_EQ(rs.data()[1], 15);
    EXPECT_NEAR(ops::dot(x, x), 91, 1e-5);
    Tensor s = ops::softmax(x);
    EXPECT_NEAR(s.at({0, 0}) + s.at({0, 1}) + s.at({0, 2}), 1, 1e-6);
    EXPECT_NEAR(std::log(s.at({1, 1})), ops::log_softmax(x).at({1, 1}), 1e-6);
    EXPECT_NE(error_of([&] { ops::add(x, v); }).find("shape_mismatch"), std::string::npos);
    EXPECT_NE(error_of([&] { ops::add(x.transpose(), x.transpose()); }).find("contiguous"), std::string::npos);
}

TEST(Ops, ConvPaddingFollowsTensorFlowAndPyTorch) {
    // same, stride 1, k=3: pad 1 each side (PyTorch padding=1); stride 2 on 28: out 14, total pad 1, before 0.
    EXPECT_EQ(ops::conv_padding(28, 3, 1, ops::Padding::same).out, 28);
    EXPECT_EQ(ops::conv_padding(28, 3, 1, ops::Padding::same).before, 1);
    EXPECT_EQ(ops::conv_padding(28, 3, 2, ops::Padding::same).out, 14);
    EXPECT_EQ(ops::conv_padding(28, 3, 2, ops::Padding::same).before, 0);
    EXPECT_EQ(ops::conv_padding(28, 3, 1, ops::Padding::valid).out, 26);
    EXPECT_EQ(ops::conv_padding(28, 5, 2, ops::Padding::valid).out, 12);
    Conv2dShape s = ops::conv2d_shape({2, 7, 7, 3}, {3, 3, 3, 8}, 2, 2, ops::Padding::same);
    EXPECT_EQ(s.out_h, 4);
    EXPECT_EQ(s.pad_top, 1);
    EXPECT_NE(error_of([] { ops::conv2d_shape({1, 7, 7, 3}, {3, 3, 2, 8}, 1, 1, ops::Padding::same); }).find("channels"),
              std::string::npos);
}

TEST(Ops, Conv2dMatchesDirectLoop) {
    Tensor x = random_tensor({2, 5, 6, 3}, 5), w = random_tensor({3, 3, 3, 4}, 6), b = random_tensor({4}, 7);
    Conv2dShape s = ops::conv2d_shape(x.shape(), w.shape(), 1, 2, ops::Padding::same);
    Tensor y = ops::conv2d(x, w, &b, s);
    for (int n = 0; n < 2; ++n)
        for (int oy = 0; oy < s.out_h; ++oy)
            for (int ox = 0; ox < s.out_w; ++ox)
                for (int oc = 0; oc < 4; ++oc) {
                    double acc = b.data()[oc];
                    for (int ky = 0; ky < 3; ++ky)
                        for (int kx = 0; kx < 3; ++kx) {
                            int iy = oy - s.pad_top + ky, ix = ox * 2 - s.pad_left + kx;
                            if (iy < 0 || iy >= 5 || ix < 0 || ix >= 6) continue;
                            for (int ic = 0; ic < 3; ++ic) acc += x.at({n, iy, ix, ic}) * w.at({ky, kx, ic, oc});
                        }
                    EXPECT_NEAR(y.at({n, oy, ox, oc}), acc, 1e-5);
                }
}

TEST(Ops, MaxPoolForwardBackward) {
    Tensor x = Tensor::from({1, 2, 4, 1}, {1, 5, 2, 0, 3, 4, 9, 8});
    ops::Pooled p = ops::maxpool2x2(x);
    ASSERT_EQ(p.y.shape(), (Shape{1, 1, 2, 1}));
    EXPECT_EQ(p.y.data()[0], 5);
    EXPECT_EQ(p.y.data()[1], 9);
    Tensor dx = ops::maxpool2x2_backward(Tensor::from({1, 1, 2, 1}, {1, 2}), p.argmax, x.shape());
    float expect[8] = {0, 1, 0, 0, 0, 0, 2, 0};
    for (int i = 0; i < 8; ++i) EXPECT_EQ(dx.data()[i], expect[i]);
}

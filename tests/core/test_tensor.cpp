#include <gtest/gtest.h>

#include "core/tensor.h"

using namespace cairn;

TEST(Tensor, ShapeStridesAndAlignment) {
    Tensor t = Tensor::zeros({2, 3, 4});
    EXPECT_EQ(t.numel(), 24);
    EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
    EXPECT_EQ(t.dim(-1), 4);
}

TEST(Tensor, ViewsShareStorage) {
    Tensor t = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor tt = t.transpose();
    EXPECT_EQ(tt.shape(), (Shape{3, 2}));
    EXPECT_FALSE(tt.is_contiguous());
    EXPECT_EQ(tt.at({2, 1}), 6.f);
    tt.at({0, 1}) = 40;
    EXPECT_EQ(t.at({1, 0}), 40.f);
    Tensor c = tt.contiguous();
    EXPECT_TRUE(c.is_contiguous());
    EXPECT_EQ(c.at({2, 0}), 3.f);
    Tensor s = t.slice(1, 1, 3);
    EXPECT_EQ(s.shape(), (Shape{2, 2}));
    EXPECT_EQ(s.ld(), 3);
    EXPECT_EQ(s.at({1, 1}), 6.f);
    EXPECT_EQ(t.row(1).shape(), (Shape{3}));
    EXPECT_EQ(t.reshape({3, -1}).shape(), (Shape{3, 2}));
}

TEST(Tensor, ErrorsNameBothShapes) {
    Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 2});
    try {
        check_same_shape(a, b, "add");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "shape_mismatch");
        std::string m = e.what();
        EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
        EXPECT_NE(m.find("[3, 2]"), std::string::npos) << m;
    }
    EXPECT_THROW(a.reshape({4, 2}), Error);
    EXPECT_THROW(a.transpose().reshape({6}), Error);
    EXPECT_THROW(a.slice(1, 2, 5), Error);
}

TEST(Tensor, Int8Storage) {
    Tensor q = Tensor::zeros({4, 4}, DType::i8);
    EXPECT_EQ(q.dtype(), DType::i8);
    q.data<int8_t>()[5] = -7;
    Tensor r = q.clone();
    EXPECT_EQ(r.data<int8_t>()[5], -7);
}

// Losses: values against hand-computed ones (computed here in double from the definitions), numerical
// stability at extreme logits, and gradients against central finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/error.h"
#include "core/loss.h"
#include "core/random.h"

using namespace cairn;

namespace {

Tensor random_tensor(const Shape& s, Rng& rng, float lo = -2, float hi = 2) {
    Tensor t = Tensor::empty(s);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(lo, hi);
    return t;
}

void check_grad(Tensor z, const std::function<double(const Tensor&, Tensor*)>& f) {
    Tensor g;
    f(z, &g);
    ASSERT_EQ(g.shape(), z.shape());
    const float eps = 1e-2f;
    for (int64_t i = 0; i < z.numel(); ++i) {
        float orig = z.data()[i];
        z.data()[i] = orig + eps;
        double lp = f(z, nullptr);
        z.data()[i] = orig - eps;
        double lm = f(z, nullptr);
        z.data()[i] = orig;
        EXPECT_NEAR(g.data()[i], (lp - lm) / (2 * eps), 1e-4) << "element " << i;
    }
}

}  // namespace

TEST(Loss, SoftmaxCrossEntropyValue) {
    Tensor z = Tensor::from({2, 3}, {1, 2, 3, 0, 0, 0});
    int32_t labels[2] = {2, 1};
    double row0 = -(3 - std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
    double row1 = std::log(3.0);
    EXPECT_NEAR(softmax_cross_entropy(z, labels), (row0 + row1) / 2, 1e-6);
}

TEST(Loss, SoftmaxCrossEntropyStableAtExtremeLogits) {
    Tensor z = Tensor::from({2, 2}, {1000, -1000, -1000, 1000});
    int32_t right[2] = {0, 1}, wrong[2] = {1, 0};
    Tensor g;
    EXPECT_NEAR(softmax_cross_entropy(z, right, &g), 0, 1e-6);
    EXPECT_NEAR(softmax_cross_entropy(z, wrong, &g), 2000, 1e-3);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(std::isfinite(g.data()[i]));
    EXPECT_NEAR(g.at({0, 0}), 0.5, 1e-6);  // (softmax - onehot) / n with softmax = [1, 0], label 1
    EXPECT_NEAR(g.at({0, 1}), -0.5, 1e-6);
}

TEST(Loss, SoftmaxCrossEntropyGradient) {
    Rng rng(3);
    int32_t labels[4] = {0, 3, 2, 4};
    check_grad(random_tensor({4, 5}, rng), [&](const Tensor& z, Tensor* g) { return softmax_cross_entropy(z, labels, g); });
}

TEST(Loss, SoftmaxCrossEntropyRejectsBadLabel) {
    Tensor z = Tensor::zeros({2, 3});
    int32_t labels[2] = {0, 3};
    try {
        softmax_cross_entropy(z, labels);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "invalid_label");
        EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
    }
}

TEST(Loss, BinaryCrossEntropyWithLogits) {
    Tensor z = Tensor::from({3, 1}, {0.5f, -2, 800}), t = Tensor::from({3, 1}, {1, 0, 0});
    auto bce = [](double z, double t) { return -(t * std::log(1 / (1 + std::exp(-z))) + (1 - t) * std::log(1 - 1 / (1 + std::exp(-z)))); };
    double expected = (bce(0.5, 1) + bce(-2, 0) + 800) / 3;  // log(1 - sigmoid(800)) = -800 in exact arithmetic
    EXPECT_NEAR(binary_cross_entropy_with_logits(z, t), expected, 1e-4);
    Rng rng(4);
    Tensor targets = random_tensor({3, 2}, rng, 0, 1);
    check_grad(random_tensor({3, 2}, rng), [&](const Tensor& x, Tensor* g) { return binary_cross_entropy_with_logits(x, targets, g); });
}

TEST(Loss, MeanSquaredError) {
    Tensor p = Tensor::from({2, 2}, {1, 2, 3, 4}), t = Tensor::from({2, 2}, {1, 0, 0, 4});
    EXPECT_NEAR(mse_loss(p, t), (0 + 4 + 9 + 0) / 4.0, 1e-6);
    Rng rng(5);
    Tensor target = random_tensor({3, 3}, rng);
    check_grad(random_tensor({3, 3}, rng), [&](const Tensor& x, Tensor* g) { return mse_loss(x, target, g); });
}

TEST(Loss, ModelLossBinaryFromLabels) {
    Tensor z = Tensor::from({2, 1}, {0.3f, -0.7f});
    int32_t labels[2] = {1, 0};
    Tensor t = Tensor::from({2, 1}, {1, 0});
    EXPECT_DOUBLE_EQ(model_loss(LossKind::binary_cross_entropy, z, labels, nullptr, nullptr),
                     binary_cross_entropy_with_logits(z, t));
    int32_t bad[2] = {1, 2};
    EXPECT_THROW(model_loss(LossKind::binary_cross_entropy, z, bad, nullptr, nullptr), Error);
}

// Every layer's backward pass against central finite differences of a random linear functional of its output
// (L = Σ r·y, so dL/dy = r), for parameters and for the input. The check runs on the reference kernels, which
// accumulate in double, so the finite differences see float rounding of the outputs only.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/kernels.h"
#include "core/model.h"
#include "core/random.h"

using namespace cairn;

namespace {

struct KernelScope {
    std::string saved = kernels().name;
    explicit KernelScope(const char* name) { set_kernels(name); }
    ~KernelScope() { set_kernels(saved); }
};

Tensor random_tensor(const Shape& s, Rng& rng, float lo = -1, float hi = 1) {
    Tensor t = Tensor::empty(s);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(lo, hi);
    return t;
}

// Checks up to `samples` entries of every parameter gradient and of the input gradient.
void check_gradients(const Json& arch, int64_t batch, uint64_t seed = 1, int samples = 16) {
    SCOPED_TRACE(arch.dump());
    KernelScope ref("reference");
    Model m = Model::from_json(arch, seed);
    m.layer(0).need_input_grad = true;
    Rng rng(seed + 100);
    Shape xs = {batch};
    for (int64_t d : m.input_shape()) xs.push_back(d);
    Tensor x = random_tensor(xs, rng);
    Tensor r = random_tensor({batch, m.num_outputs()}, rng);
    auto loss = [&] {
        m.seed_dropout(42);  // the same dropout mask on every evaluation
        Tensor y = m.forward(x, true);
        double s = 0;
        for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y.data()[i]) * r.data()[i];
        return s;
    };
    loss();
    Tensor dx = m.backward(r);
    ASSERT_TRUE(dx.defined());
    ASSERT_EQ(dx.shape(), x.shape());

    const float eps = 1e-3f;
    auto check = [&](Tensor& v, const Tensor& g, const std::string& name) {
        Rng pick(seed + name.size());
        for (int s = 0; s < samples; ++s) {
            int64_t i = pick.below(static_cast<uint32_t>(v.numel()));
            float orig = v.data()[i];
            v.data()[i] = orig + eps;
            double lp = loss();
            v.data()[i] = orig - eps;
            double lm = loss();
            v.data()[i] = orig;
            double num = (lp - lm) / (2.0 * eps), ana = g.data()[i];
            EXPECT_NEAR(ana, num, 2e-3 + 1e-2 * std::abs(num)) << name << "[" << i << "]";
        }
    };
    std::vector<Tensor> grads;
    for (Param* p : m.trainable()) grads.push_back(p->grad.clone());
    size_t k = 0;
    for (Param* p : m.trainable()) check(p->value, grads[k++], p->name);
    check(x, dx, "input");
}

Json dense(int units, const char* act) { return {{"type", "dense"}, {"units", units}, {"activation", act}}; }

}  // namespace

TEST(LayersGrad, DenseEachActivation) {
    for (const char* act : {"linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu"})
        check_gradients({{"input", {5}}, {"layers", {dense(7, act), dense(3, "linear")}}, {"loss", "mse"}}, 4);
}

TEST(LayersGrad, StandaloneActivations) {
    for (const char* act : {"relu", "leaky_relu", "sigmoid", "tanh", "gelu"})
        check_gradients({{"input", {6}},
                         {"layers", {dense(6, "linear"), {{"type", act}}, dense(2, "linear")}},
                         {"loss", "mse"}},
                        3);
    check_gradients({{"input", {6}},
                     {"layers", {dense(6, "linear"), {{"type", "activation"}, {"activation", "leaky_relu"}, {"alpha", 0.2}},
                                 dense(2, "linear")}},
                     {"loss", "mse"}},
                    3);
}

TEST(LayersGrad, Conv2dSameValidStrided) {
    Json flat = {{"type", "flatten"}};
    for (const char* pad : {"same", "valid"})
        for (int stride : {1, 2})
            for (const char* act : {"relu", "tanh"}) {
                Json conv = {{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"strides", stride},
                             {"padding", pad}, {"activation", act}};
                check_gradients({{"input", {7, 6, 2}}, {"layers", {conv, flat, dense(3, "linear")}}, {"loss", "mse"}}, 2);
            }
    Json rect = {{"type", "conv2d"}, {"filters", 3}, {"kernel_size", {2, 3}}, {"strides", {2, 1}}, {"padding", "same"}};
    check_gradients({{"input", {5, 5, 3}}, {"layers", {rect, flat, dense(2, "linear")}}, {"loss", "mse"}}, 2);
}

TEST(LayersGrad, MaxPoolFlattenDense) {
    Json conv = {{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 3}, {"padding", "same"}, {"activation", "relu"}};
    check_gradients({{"input", {6, 7, 2}},  // odd width: the last column is dropped by the pool
                     {"layers", {conv, {{"type", "maxpool2d"}}, {{"type", "flatten"}}, dense(3, "linear")}},
                     {"loss", "mse"}},
                    2);
}

TEST(LayersGrad, Dropout) {
    check_gradients({{"input", {8}},
                     {"layers", {dense(10, "tanh"), {{"type", "dropout"}, {"rate", 0.3}}, dense(3, "linear")}},
                     {"loss", "mse"}},
                    4);
}

TEST(LayersGrad, BatchNormDenseAndImage) {
    check_gradients({{"input", {5}},
                     {"layers", {dense(6, "linear"), {{"type", "batchnorm"}}, {{"type", "tanh"}}, dense(3, "linear")}},
                     {"loss", "mse"}},
                    5);
    Json conv = {{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 3}, {"padding", "same"}};
    check_gradients({{"input", {4, 4, 2}},
                     {"layers", {conv, {{"type", "batchnorm"}}, {{"type", "relu"}}, {{"type", "flatten"}}, dense(2, "linear")}},
                     {"loss", "mse"}},
                    3);
}

TEST(Layers, DropoutIsIdentityAtInferenceAndScalesInTraining) {
    Model m = Model::from_json({{"input", {1000}}, {"layers", {{{"type", "dropout"}, {"rate", 0.25}}}}, {"loss", "mse"}});
    Tensor x = Tensor::full({1, 1000}, 1.0f);
    Tensor y = m.forward(x, false);
    for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(y.data()[i], 1.0f);
    y = m.forward(x, true);
    int zeros = 0;
    for (int64_t i = 0; i < 1000; ++i) {
        if (y.data()[i] == 0) ++zeros;
        else ASSERT_FLOAT_EQ(y.data()[i], 1 / 0.75f);
    }
    EXPECT_GT(zeros, 200);
    EXPECT_LT(zeros, 300);
}

TEST(Layers, BatchNormRunningStatisticsAsPyTorch) {
    // One training batch with momentum 0.1: running_mean = 0.1·mean, running_var = 0.9 + 0.1·unbiased var.
    Model m = Model::from_json({{"input", {2}}, {"layers", {{{"type", "batchnorm"}}}}, {"loss", "mse"}});
    Tensor x = Tensor::from({4, 2}, {1, 10, 2, 20, 3, 30, 6, 40});
    Tensor y = m.forward(x, true);
    auto ps = m.params();
    ASSERT_EQ(ps.size(), 4u);
    EXPECT_EQ(ps[2]->name, "0.batchnorm.running_mean");
    EXPECT_NEAR(ps[2]->value.data()[0], 0.1 * 3.0, 1e-6);
    EXPECT_NEAR(ps[3]->value.data()[0], 0.9 + 0.1 * (14.0 / 3.0), 1e-5);  // values 1,2,3,6: Σ(x-3)² = 14
    // Training output is normalized per feature: mean 0, biased variance 1.
    double mean = 0, var = 0;
    for (int i = 0; i < 4; ++i) mean += y.at({i, 1}) / 4;
    for (int i = 0; i < 4; ++i) var += (y.at({i, 1}) - mean) * (y.at({i, 1}) - mean) / 4;
    EXPECT_NEAR(mean, 0, 1e-6);
    EXPECT_NEAR(var, 1, 1e-3);
}

// Inference keeps no activations, so it must give the training pass's output (no dropout or batchnorm here) and
// leave nothing a backward() could misuse: backward after inference is refused by name, not run on stale inputs.
TEST(Layers, InferenceKeepsNoActivationsAndBackwardNeedsATrainingPass) {
    const Json arch = {{"input", {6}},
                       {"layers", {{{"type", "dense"}, {"units", 5}, {"activation", "tanh"}},
                                   {{"type", "dense"}, {"units", 4}, {"activation", "relu"}},
                                   {{"type", "dense"}, {"units", 3}}}}};
    Model m = Model::from_json(arch, 7);
    Rng rng(11);
    Tensor x = random_tensor({2, 6}, rng);
    Tensor train = m.forward(x, true).clone();
    Tensor infer = m.forward(x, false);
    ASSERT_EQ(train.shape(), infer.shape());
    for (int64_t i = 0; i < train.numel(); ++i) EXPECT_EQ(train.data()[i], infer.data()[i]) << "element " << i;
    try {
        m.backward(Tensor::full({2, 3}, 1.f));
        FAIL() << "backward after an inference pass must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "invalid_state");
        EXPECT_NE(std::string(e.what()).find("forward(x, true)"), std::string::npos) << e.what();
    }
    m.forward(x, true);
    EXPECT_NO_THROW(m.backward(Tensor::full({2, 3}, 1.f)));
}

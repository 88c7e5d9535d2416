// Optimizers against steps computed by hand from PyTorch's update rules (torch.optim.SGD/Adam/AdamW), schedules
// against their formulas, clipping, state save/restore, and descriptor validation.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/optim.h"

using namespace cairn;

namespace {

Param make(std::initializer_list<float> w) {
    Param p;
    p.name = "0.dense.weight";
    p.value = Tensor::from({static_cast<int64_t>(w.size())}, w);
    p.grad = Tensor::zeros(p.value.shape());
    return p;
}

void set_grad(Param& p, std::initializer_list<float> g) { p.grad.copy_from(Tensor::from(p.value.shape(), g)); }

std::string error_of(const OptimizerDesc& d) {
    try {
        resolve(d);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Optim, PlainSgd) {
    Param p = make({1, -2});
    OptimizerDesc d;
    d.type = "sgd";
    d.lr = 0.1f;
    Optimizer opt(d, {&p});
    set_grad(p, {0.5f, -1});
    opt.step();
    EXPECT_FLOAT_EQ(p.value.data()[0], 0.95f);
    EXPECT_FLOAT_EQ(p.value.data()[1], -1.9f);
}

TEST(Optim, MomentumAndNesterov) {
    // buf1 = g1, buf2 = μ·buf1 + g2; classic: w -= lr·buf; Nesterov: w -= lr·(g + μ·buf).
    for (bool nesterov : {false, true}) {
        Param p = make({1});
        OptimizerDesc d;
        d.type = "momentum";
        d.lr = 0.1f;
        d.momentum = 0.9f;
        d.nesterov = nesterov;
        Optimizer opt(d, {&p});
        set_grad(p, {1});
        opt.step();
        double w = 1 - 0.1 * (nesterov ? 1 + 0.9 * 1 : 1);
        EXPECT_NEAR(p.value.data()[0], w, 1e-6);
        set_grad(p, {2});
        opt.step();
        double buf = 0.9 * 1 + 2;
        w -= 0.1 * (nesterov ? 2 + 0.9 * buf : buf);
        EXPECT_NEAR(p.value.data()[0], w, 1e-6) << "nesterov " << nesterov;
    }
}

TEST(Optim, SgdWeightDecayIsL2) {
    Param p = make({2});
    OptimizerDesc d;
    d.type = "sgd";
    d.lr = 0.5f;
    d.weight_decay = 0.1f;
    Optimizer opt(d, {&p});
    set_grad(p, {1});
    opt.step();
    EXPECT_NEAR(p.value.data()[0], 2 - 0.5 * (1 + 0.1 * 2), 1e-6);
}

TEST(Optim, AdamTwoStepsByHand) {
    Param p = make({1, 0.5f});
    OptimizerDesc d;  // defaults: adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8
    d.lr = 0.01f;
    Optimizer opt(d, {&p});
    double w[2] = {1, 0.5}, m[2] = {0, 0}, v[2] = {0, 0};
    float grads[2][2] = {{0.2f, -3}, {-0.1f, 1}};
    for (int t = 1; t <= 2; ++t) {
        set_grad(p, {grads[t - 1][0], grads[t - 1][1]});
        opt.step();
        for (int i = 0; i < 2; ++i) {
            double g = grads[t - 1][i];
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.999, t));
            w[i] -= 0.01 * mh / (std::sqrt(vh) + 1e-8);
            EXPECT_NEAR(p.value.data()[i], w[i], 1e-6) << "step " << t << " index " << i;
        }
    }
}

TEST(Optim, AdamWDecouplesAndAdamCouplesWeightDecay) {
    Param a = make({2}), b = make({2});
    OptimizerDesc d;
    d.lr = 0.1f;
    d.weight_decay = 0.5f;
    d.type = "adamw";
    Optimizer adamw(d, {&a});
    d.type = "adam";
    Optimizer adam(d, {&b});
    set_grad(a, {1});
    set_grad(b, {1});
    adamw.step();
    adam.step();
    // AdamW: w·(1 - lr·wd) - lr·sign(g); first Adam step moves by lr·g/|g| whatever g is (g = 1 + wd·w = 2 here).
    EXPECT_NEAR(a.value.data()[0], 2 * (1 - 0.1 * 0.5) - 0.1, 1e-6);
    EXPECT_NEAR(b.value.data()[0], 2 - 0.1, 1e-6);
}

TEST(Optim, GlobalNormClipping) {
    Param p = make({0, 0}), q = make({0});
    q.name = "0.dense.bias";
    OptimizerDesc d;
    d.type = "sgd";
    d.lr = 1;
    d.clip_norm = 1;
    Optimizer opt(d, {&p, &q});
    set_grad(p, {3, 0});
    set_grad(q, {4});  // global norm 5 -> scaled by 1/5
    opt.step();
    EXPECT_NEAR(opt.last_grad_norm(), 5, 1e-6);
    EXPECT_NEAR(p.value.data()[0], -0.6, 1e-5);
    EXPECT_NEAR(q.value.data()[0], -0.8, 1e-5);
}

TEST(Optim, Schedules) {
    OptimizerDesc d;
    d.lr = 1;
    d.schedule.type = "step";
    d.schedule.step_size = 10;
    d.schedule.gamma = 0.5f;
    OptimizerDesc r = resolve(d);
    EXPECT_FLOAT_EQ(scheduled_lr(r, 0), 1);
    EXPECT_FLOAT_EQ(scheduled_lr(r, 9), 1);
    EXPECT_FLOAT_EQ(scheduled_lr(r, 10), 0.5f);
    EXPECT_FLOAT_EQ(scheduled_lr(r, 25), 0.25f);
    d.schedule = {};
    d.schedule.type = "cosine";
    d.schedule.warmup_steps = 4;
    d.schedule.total_steps = 104;
    d.schedule.min_lr = 0.1f;
    r = resolve(d);
    EXPECT_FLOAT_EQ(scheduled_lr(r, 0), 0.25f);  // warm-up: (t+1)/warmup
    EXPECT_FLOAT_EQ(scheduled_lr(r, 3), 1);
    EXPECT_FLOAT_EQ(scheduled_lr(r, 4), 1);
    EXPECT_NEAR(scheduled_lr(r, 54), 0.1 + 0.9 * 0.5, 1e-6);  // half way
    EXPECT_NEAR(scheduled_lr(r, 104), 0.1, 1e-6);
    EXPECT_NEAR(scheduled_lr(r, 500), 0.1, 1e-6);
}

TEST(Optim, StateRoundTripResumesExactly) {
    OptimizerDesc d;
    d.type = "adam";
    d.lr = 0.05f;
    Param a = make({1, 2, 3}), b = make({1, 2, 3});
    Optimizer oa(d, {&a});
    float g1[3] = {0.1f, -0.2f, 0.3f}, g2[3] = {1, 2, -1};
    set_grad(a, {g1[0], g1[1], g1[2]});
    oa.step();
    ModelArtifact art;
    oa.save(art);
    EXPECT_EQ(art.optimizer["step"], 1);
    ASSERT_EQ(art.optimizer_state.size(), 2u);
    EXPECT_EQ(art.optimizer_state[0].name, "0.dense.weight.m");
    b.value.copy_from(a.value);
    Optimizer ob(d, {&b});
    ob.load(art);
    EXPECT_EQ(ob.steps(), 1);
    set_grad(a, {g2[0], g2[1], g2[2]});
    set_grad(b, {g2[0], g2[1], g2[2]});
    oa.step();
    ob.step();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(a.value.data()[i], b.value.data()[i]);
    // A different optimizer type refuses the state.
    OptimizerDesc s;
    s.type = "sgd";
    Optimizer sgd(s, {&b});
    EXPECT_THROW(sgd.load(art), Error);
    // JSON round trip of the descriptor.
    OptimizerDesc back = resolve(optimizer_from_json(art.optimizer));
    EXPECT_EQ(back.type, "adam");
    EXPECT_FLOAT_EQ(back.lr, 0.05f);
}

TEST(Optim, ValidationNamesTheField) {
    OptimizerDesc d;
    d.lr = -1;
    EXPECT_NE(error_of(d).find("optimizer.lr"), std::string::npos) << error_of(d);
    d = {};
    d.type = "rmsprop";
    EXPECT_NE(error_of(d).find("optimizer.type"), std::string::npos);
    d = {};
    d.type = "momentum";
    d.momentum = 1.5f;
    EXPECT_NE(error_of(d).find("optimizer.momentum"), std::string::npos);
    d = {};
    d.schedule.type = "step";
    EXPECT_NE(error_of(d).find("optimizer.schedule.step_size"), std::string::npos);
    try {
        optimizer_from_json({{"type", "adam"}, {"learning_rate", 0.1}});
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("optimizer.learning_rate"), std::string::npos) << e.what();
    }
    EXPECT_EQ(resolve(OptimizerDesc{}).type, "adam");
    EXPECT_FLOAT_EQ(resolve(OptimizerDesc{}).lr, 1e-3f);
}

#include "core/optim.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace cairn {

// Elements per Adam task when a thread pool is up: large enough that a task outweighs its hand-off (a few µs),
// small enough that a 235k-parameter model gives every thread several tasks. A multiple of every vector width.
constexpr int64_t kAdamRun = 16384;

//-----------------------------------------------------------------------------
// [SECTION] Descriptors
//-----------------------------------------------------------------------------

[[noreturn]] static void bad(const std::string& field, const std::string& expected, const std::string& got) {
    fail("invalid_argument", "optimizer." + field + ": expected " + expected + ", got " + got);
}

static std::string num(double x) {
    Json j = x;
    return j.dump();
}

OptimizerDesc resolve(const OptimizerDesc& in) {
    OptimizerDesc d = in;
    if (d.type.empty()) d.type = "adam";
    bool adam = d.type == "adam" || d.type == "adamw";
    if (!adam && d.type != "sgd" && d.type != "momentum")
        bad("type", "one of \"sgd\", \"momentum\", \"adam\", \"adamw\"", "\"" + d.type + "\"");
    if (d.lr == 0) d.lr = adam ? 1e-3f : 1e-2f;
    if (d.type == "momentum" && d.momentum == 0) d.momentum = 0.9f;
    if (d.beta1 == 0) d.beta1 = 0.9f;
    if (d.beta2 == 0) d.beta2 = 0.999f;
    if (d.eps == 0) d.eps = 1e-8f;
    if (!(d.lr > 0) || !std::isfinite(d.lr)) bad("lr", "a positive number", num(d.lr));
    if (!(d.momentum >= 0 && d.momentum < 1)) bad("momentum", "a number in [0, 1)", num(d.momentum));
    if (d.nesterov && d.momentum == 0) bad("nesterov", "a momentum > 0 (type \"momentum\")", "momentum 0");
    if (!(d.beta1 >= 0 && d.beta1 < 1)) bad("beta1", "a number in [0, 1)", num(d.beta1));
    if (!(d.beta2 >= 0 && d.beta2 < 1)) bad("beta2", "a number in [0, 1)", num(d.beta2));
    if (!(d.eps > 0)) bad("eps", "a positive number", num(d.eps));
    if (!(d.weight_decay >= 0)) bad("weight_decay", "a number >= 0", num(d.weight_decay));
    if (!(d.clip_norm >= 0)) bad("clip_norm", "a number >= 0 (0 = off)", num(d.clip_norm));
    ScheduleDesc& s = d.schedule;
    if (s.type.empty()) s.type = "constant";
    if (s.type != "constant" && s.type != "step" && s.type != "cosine")
        bad("schedule.type", "one of \"constant\", \"step\", \"cosine\"", "\"" + s.type + "\"");
    if (s.warmup_steps < 0) bad("schedule.warmup_steps", "an integer >= 0", num(s.warmup_steps));
    if (s.type == "step") {
        if (s.step_size <= 0) bad("schedule.step_size", "an integer >= 1 for a \"step\" schedule", num(s.step_size));
        if (s.gamma == 0) s.gamma = 0.1f;
        if (!(s.gamma > 0 && s.gamma <= 1)) bad("schedule.gamma", "a number in (0, 1]", num(s.gamma));
    }
    if (s.type == "cosine" && s.total_steps < 0) bad("schedule.total_steps", "an integer >= 0", num(s.total_steps));
    if (!(s.min_lr >= 0 && s.min_lr <= d.lr)) bad("schedule.min_lr", "a number in [0, lr]", num(s.min_lr));
    return d;
}

float scheduled_lr(const OptimizerDesc& d, int64_t t) {
    const ScheduleDesc& s = d.schedule;
    if (t < s.warmup_steps) return d.lr * static_cast<float>(t + 1) / static_cast<float>(s.warmup_steps);
    int64_t u = t - s.warmup_steps;
    if (s.type == "step") return d.lr * static_cast<float>(std::pow(static_cast<double>(s.gamma), u / s.step_size));
    if (s.type == "cosine") {
        int64_t span = s.total_steps - s.warmup_steps;
        if (span <= 0) return d.lr;
        double frac = std::min<double>(static_cast<double>(u) / span, 1.0);
        return static_cast<float>(s.min_lr + (d.lr - s.min_lr) * 0.5 * (1 + std::cos(3.14159265358979323846 * frac)));
    }
    return d.lr;
}

Json to_json(const OptimizerDesc& d) {
    return {{"type", d.type}, {"lr", shortest_decimal(d.lr)}, {"momentum", shortest_decimal(d.momentum)}, {"nesterov", d.nesterov},
            {"beta1", shortest_decimal(d.beta1)}, {"beta2", shortest_decimal(d.beta2)}, {"eps", shortest_decimal(d.eps)},
            {"weight_decay", shortest_decimal(d.weight_decay)}, {"clip_norm", shortest_decimal(d.clip_norm)},
            {"schedule", {{"type", d.schedule.type}, {"warmup_steps", d.schedule.warmup_steps},
                          {"step_size", d.schedule.step_size}, {"gamma", shortest_decimal(d.schedule.gamma)},
                          {"total_steps", d.schedule.total_steps}, {"min_lr", shortest_decimal(d.schedule.min_lr)}}}};
}

OptimizerDesc optimizer_from_json(const Json& j) {
    OptimizerDesc d;
    if (!j.is_object()) bad("", "a JSON object", j.dump());
    auto get = [&](const Json& o, const std::string& prefix, const std::string& k, auto& out) {
        const Json& v = o.at(k);
        using T = std::decay_t<decltype(out)>;
        bool ok = std::is_same_v<T, std::string> ? v.is_string()
                  : std::is_same_v<T, bool>      ? v.is_boolean()
                  : std::is_integral_v<T>        ? v.is_number_integer()
                                                 : v.is_number();
        if (!ok) bad(prefix + k, std::is_same_v<T, std::string> ? "a string" : std::is_same_v<T, bool> ? "a boolean" : "a number", v.dump());
        out = v.get<T>();
    };
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& k = it.key();
        if (k == "type") get(j, "", k, d.type);
        else if (k == "lr") get(j, "", k, d.lr);
        else if (k == "momentum") get(j, "", k, d.momentum);
        else if (k == "nesterov") get(j, "", k, d.nesterov);
        else if (k == "beta1") get(j, "", k, d.beta1);
        else if (k == "beta2") get(j, "", k, d.beta2);
        else if (k == "eps") get(j, "", k, d.eps);
        else if (k == "weight_decay") get(j, "", k, d.weight_decay);
        else if (k == "clip_norm") get(j, "", k, d.clip_norm);
        else if (k == "step" || k == "progress") continue;  // saved step count / trainer position (resume)
        else if (k == "schedule") {
            const Json& s = *it;
            if (!s.is_object()) bad("schedule", "a JSON object", s.dump());
            for (auto si = s.begin(); si != s.end(); ++si) {
                const std::string& sk = si.key();
                if (sk == "type") get(s, "schedule.", sk, d.schedule.type);
                else if (sk == "warmup_steps") get(s, "schedule.", sk, d.schedule.warmup_steps);
                else if (sk == "step_size") get(s, "schedule.", sk, d.schedule.step_size);
                else if (sk == "gamma") get(s, "schedule.", sk, d.schedule.gamma);
                else if (sk == "total_steps") get(s, "schedule.", sk, d.schedule.total_steps);
                else if (sk == "min_lr") get(s, "schedule.", sk, d.schedule.min_lr);
                else bad("schedule." + sk, "a known field (type, warmup_steps, step_size, gamma, total_steps, min_lr)", "an unknown field");
            }
        } else {
            bad(k, "a known field (type, lr, momentum, nesterov, beta1, beta2, eps, weight_decay, clip_norm, schedule)",
                "an unknown field");
        }
    }
    return d;
}

//-----------------------------------------------------------------------------
// [SECTION] Optimizer
//-----------------------------------------------------------------------------

static bool is_adam(const OptimizerDesc& d) { return d.type == "adam" || d.type == "adamw"; }

Optimizer::Optimizer(const OptimizerDesc& desc, std::vector<Param*> params) : desc_(resolve(desc)), params_(params) {
    for (Param* p : params_) {
        if (!p->trainable || !p->grad.defined()) fail("invalid_argument", "optimizer: '" + p->name + "' is not trainable");
        bool velocity = desc_.momentum > 0 && !is_adam(desc_);
        m_.push_back(is_adam(desc_) || velocity ? Tensor::zeros(p->value.shape()) : Tensor());
        v_.push_back(is_adam(desc_) ? Tensor::zeros(p->value.shape()) : Tensor());
    }
}

void Optimizer::step() {
    // Global norm over every gradient, as torch.nn.utils.clip_grad_norm_. Only when clipping: it reads every
    // gradient once more, which costs as much as the rest of the optimizer step.
    if (desc_.clip_norm > 0) {
        double sq = 0;
        for (Param* p : params_) sq += ops::sum_squares(p->grad);
        grad_norm_ = std::sqrt(sq);
        double coef = desc_.clip_norm / (grad_norm_ + 1e-6);
        if (coef < 1)
            for (Param* p : params_) ops::scale_(p->grad, static_cast<float>(coef));
    }
    const float lr = current_lr();
    const float wd = desc_.weight_decay;
    ++t_;
    if (is_adam(desc_)) {
        // Bias corrections folded into the step size and epsilon (the kernel's contract):
        // lr·m̂/(√v̂+eps) = lr·√(1-β2ᵗ)/(1-β1ᵗ) · m/(√v + eps·√(1-β2ᵗ)).
        double c1 = 1 - std::pow(static_cast<double>(desc_.beta1), static_cast<double>(t_));
        double c2 = std::sqrt(1 - std::pow(static_cast<double>(desc_.beta2), static_cast<double>(t_)));
        float lr_t = static_cast<float>(lr * c2 / c1), eps_t = static_cast<float>(desc_.eps * c2);
        bool decoupled = desc_.type == "adamw";
        if (wd > 0 && !decoupled)
            for (Param* p : params_) ops::axpy(wd, p->value, p->grad);
        // One update per run of a parameter. With threads, every parameter is cut into runs so the small ones
        // (biases, a second layer's weights: each too small to split on its own) share the pool with the large
        // ones. The update is elementwise, so the runs give the same bits as one call per parameter.
        const int64_t run = num_threads() > 1 ? kAdamRun : INT64_MAX;
        struct Run { size_t param; int64_t lo, n; };
        std::vector<Run> runs;
        for (size_t i = 0; i < params_.size(); ++i)
            for (int64_t lo = 0, n = params_[i]->value.numel(); lo < n; lo += run)
                runs.push_back({i, lo, std::min(run, n - lo)});
        const float wd_step = decoupled ? lr * wd : 0.f;
        parallel_for(static_cast<int>(runs.size()), [&](int t) {
            const Run& r = runs[t];
            Param& p = *params_[r.param];
            kernels().adam_update(p.value.data() + r.lo, p.grad.data() + r.lo, m_[r.param].data() + r.lo,
                                  v_[r.param].data() + r.lo, r.n, lr_t, desc_.beta1, desc_.beta2, eps_t, wd_step);
        });
        return;
    }
    for (size_t i = 0; i < params_.size(); ++i) {
        Param& p = *params_[i];
        if (wd > 0) ops::axpy(wd, p.value, p.grad);
        if (desc_.momentum > 0) {
            Tensor& buf = m_[i];  // buf = μ·buf + g (PyTorch's dampening-free form)
            ops::scale_(buf, desc_.momentum);
            ops::axpy(1, p.grad, buf);
            if (desc_.nesterov) {
                ops::axpy(desc_.momentum, buf, p.grad);  // g + μ·buf
                ops::axpy(-lr, p.grad, p.value);
            } else {
                ops::axpy(-lr, buf, p.value);
            }
        } else {
            ops::axpy(-lr, p.grad, p.value);
        }
    }
}

void Optimizer::save(ModelArtifact& a) const {
    a.optimizer = to_json(desc_);
    a.optimizer["step"] = t_;
    a.optimizer_state.clear();
    for (size_t i = 0; i < params_.size(); ++i) {
        if (is_adam(desc_)) {
            a.optimizer_state.push_back({params_[i]->name + ".m", m_[i].clone()});
            a.optimizer_state.push_back({params_[i]->name + ".v", v_[i].clone()});
        } else if (m_[i].defined()) {
            a.optimizer_state.push_back({params_[i]->name + ".velocity", m_[i].clone()});
        }
    }
}

void Optimizer::load(const ModelArtifact& a) {
    if (!a.optimizer.is_object()) fail("invalid_artifact", "artifact has no optimizer state to resume from");
    OptimizerDesc saved = resolve(optimizer_from_json(a.optimizer));
    if (saved.type != desc_.type)
        fail("invalid_artifact", "optimizer state is for \"" + saved.type + "\", resuming with \"" + desc_.type + "\"");
    auto step = a.optimizer.find("step");
    if (step == a.optimizer.end() || !step->is_number_integer() || step->get<int64_t>() < 0)
        fail("invalid_artifact", "optimizer.step: expected an integer >= 0");
    std::map<std::string, const Tensor*> by_name;
    for (const NamedTensor& t : a.optimizer_state) by_name[t.name] = &t.tensor;
    auto restore = [&](const std::string& name, Tensor& dst) {
        auto it = by_name.find(name);
        if (it == by_name.end()) fail("invalid_artifact", "missing optimizer state '" + name + "'");
        if (it->second->shape() != dst.shape() || it->second->dtype() != DType::f32)
            fail("invalid_artifact", "optimizer state '" + name + "': expected f32 " + shape_str(dst.shape()) +
                                         ", got " + shape_str(it->second->shape()));
        dst.copy_from(*it->second);
    };
    for (size_t i = 0; i < params_.size(); ++i) {
        if (is_adam(desc_)) {
            restore(params_[i]->name + ".m", m_[i]);
            restore(params_[i]->name + ".v", v_[i]);
        } else if (m_[i].defined()) {
            restore(params_[i]->name + ".velocity", m_[i]);
        }
    }
    t_ = step->get<int64_t>();
}

}  // namespace cairn

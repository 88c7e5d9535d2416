// Optimizers: SGD, momentum (optionally Nesterov), Adam and AdamW over a model's trainable parameters, with L2
// weight decay, learning-rate schedules and global-norm gradient clipping. Update rules are PyTorch's
// (torch.optim.SGD / Adam / AdamW), so runs can be cross-checked step by step.
//
// Descriptors follow the zero-means-default rule; resolve() fills the defaults and validates once, naming the
// field ("optimizer.lr: expected a positive number, got -1"). The state (step count, moments, velocities) is
// saved into and restored from a ModelArtifact so an interrupted training resumes exactly.
//
// Index of this file
// [SECTION] Descriptors
// [SECTION] Optimizer
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/artifact.h"
#include "core/layers.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Descriptors
//-----------------------------------------------------------------------------

// Learning rate as a function of the step index t (0-based). Warm-up ramps linearly to lr over warmup_steps,
// then "step" multiplies by gamma every step_size steps and "cosine" anneals to min_lr at total_steps.
struct ScheduleDesc {
    std::string type;          // "" = "constant", "step", "cosine"
    int64_t warmup_steps = 0;
    int64_t step_size = 0;     // "step": required
    float gamma = 0;           // "step": default 0.1
    int64_t total_steps = 0;   // "cosine": required (the trainer fills epochs x batches when 0)
    float min_lr = 0;
};

struct OptimizerDesc {
    std::string type;          // "" = "adam"; "sgd", "momentum", "adam", "adamw"
    float lr = 0;              // default 1e-3 for adam/adamw, 1e-2 for sgd/momentum
    float momentum = 0;        // "momentum": default 0.9
    bool nesterov = false;
    float beta1 = 0, beta2 = 0, eps = 0;  // defaults 0.9, 0.999, 1e-8
    float weight_decay = 0;    // L2 added to the gradient; decoupled (w -= lr·wd·w) for adamw
    float clip_norm = 0;       // global gradient norm limit; 0 = off
    ScheduleDesc schedule;
};

OptimizerDesc resolve(const OptimizerDesc& d);  // defaults filled, validated (Error "invalid_argument")
Json to_json(const OptimizerDesc& d);
OptimizerDesc optimizer_from_json(const Json& j);  // unknown fields and bad values are named
float scheduled_lr(const OptimizerDesc& resolved, int64_t step);

//-----------------------------------------------------------------------------
// [SECTION] Optimizer
//-----------------------------------------------------------------------------

class Optimizer {
public:
    Optimizer(const OptimizerDesc& desc, std::vector<Param*> params);
    // One update from the parameters' current gradients (which it may modify: clipping, weight decay).
    void step();
    int64_t steps() const { return t_; }
    float current_lr() const { return scheduled_lr(desc_, t_); }
    double last_grad_norm() const { return grad_norm_; }  // before clipping; 0 while clipping is off
    const OptimizerDesc& desc() const { return desc_; }
    void set_total_steps(int64_t n) { desc_.schedule.total_steps = n; }

    // artifact.optimizer = config + step count, artifact.optimizer_state = "<param>.m"/".v"/".velocity".
    void save(ModelArtifact& a) const;
    // Restores the step count and state; Error("invalid_artifact") if the type, names or shapes differ.
    void load(const ModelArtifact& a);

private:
    OptimizerDesc desc_;
    std::vector<Param*> params_;
    std::vector<Tensor> m_, v_;  // adam: moments; momentum: m_ is the velocity
    int64_t t_ = 0;
    double grad_norm_ = 0;
};

}  // namespace cairn

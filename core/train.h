// Training driven in small steps: Trainer::step() runs one batch, so a page can drive it once per animation
// frame (or a worker in a loop) and pause or cancel between calls; run() loops for native callers.
//
// Determinism: the epoch order comes from Rng(seed + epoch) and dropout from the model's stream reseeded per
// epoch, so the same seed, build and kernel backend give bit-identical weights, and a checkpoint taken between
// epochs resumes exactly (mid-epoch resumes repeat the batch order; only dropout masks differ).
//
// Index of this file
// [SECTION] Descriptors
// [SECTION] Evaluation
// [SECTION] Trainer
// [SECTION] Training history (the registry's record of a run)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/model.h"
#include "core/optim.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Descriptors
//-----------------------------------------------------------------------------

struct EarlyStoppingDesc {
    int patience = 0;          // epochs without improvement before stopping; 0 = off
    std::string monitor;       // "" = "val_loss"; or "val_accuracy"
    float min_delta = 0;       // smallest change that counts as an improvement
    bool keep_last = false;    // default: restore the best epoch's weights when training ends
};

struct TrainDesc {
    int epochs = 0;                 // default 10
    int batch_size = 0;             // default 32
    uint64_t seed = 0;
    float validation_split = 0;     // stratified hold-out fraction in [0, 0.9]; 0 = none (or a given set)
    bool no_shuffle = false;
    OptimizerDesc optimizer;
    EarlyStoppingDesc early_stopping;
};

// Defaults filled and validated; errors name the field ("train.batch_size: expected ...").
TrainDesc resolve(const TrainDesc& d);

//-----------------------------------------------------------------------------
// [SECTION] Evaluation
//-----------------------------------------------------------------------------

struct EvalResult {
    double loss = 0;
    int64_t samples = 0;
    bool has_accuracy = false;  // classification only, as are the scores below
    double accuracy = 0;
    double macro_precision = 0, macro_recall = 0, macro_f1 = 0;  // as core/metrics.h's ClassificationReport

    // What the registry records of one split ("train", "validation", "test"): {"loss", "samples"} and for a
    // classifier "accuracy", "macro_precision", "macro_recall", "macro_f1". Every front end records its splits with
    // it, so a registry column means the same whichever front end made the version.
    Json to_json() const;
};

// Loss, accuracy and macro scores of the model on (a subset of) a dataset; `indices` empty = every sample.
EvalResult evaluate(Model& model, const Dataset& data, const std::vector<int64_t>& indices = {}, int64_t batch = 256);

//-----------------------------------------------------------------------------
// [SECTION] Trainer
//-----------------------------------------------------------------------------

struct EpochStats {
    int epoch = 0;  // 1-based
    double loss = 0, accuracy = 0;          // training, averaged over the epoch's batches
    double val_loss = 0, val_accuracy = 0;  // when there is validation data
    bool has_validation = false, has_accuracy = false;
    float lr = 0;                           // at the epoch's end
};

class Trainer {
public:
    // `validation` (optional) replaces the validation_split hold-out. The model and datasets must outlive it.
    Trainer(Model& model, const Dataset& train, const TrainDesc& desc, const Dataset* validation = nullptr);

    // One batch. Returns false once training is over (completed, early-stopped or cancelled).
    // A NaN/Inf loss throws Error("diverged") naming the epoch and batch and ends training.
    bool step();
    void run() { while (step()) {} }
    void cancel();

    bool done() const { return done_; }
    const std::string& stop_reason() const { return reason_; }  // "completed", "early_stopping", "cancelled", "diverged"
    int epoch() const { return epoch_; }                          // 0-based, the one in progress
    int64_t batch() const { return batch_; }                      // batches done in the current epoch
    int64_t batches_per_epoch() const { return batches_; }
    int64_t total_steps() const { return batches_ * desc_.epochs; }
    int64_t steps_done() const { return static_cast<int64_t>(epoch_) * batches_ + batch_; }
    double last_loss() const { return last_loss_; }
    int best_epoch() const { return best_epoch_; }               // 1-based; 0 without early stopping
    // The epoch whose weights early stopping put back when training ended (1-based); 0 when the model holds the
    // last step's weights (no early stopping, keep_last, cancelled, or still training).
    int restored_epoch() const { return restored_epoch_; }
    const std::vector<EpochStats>& history() const { return history_; }
    const TrainDesc& desc() const { return desc_; }
    size_t train_size() const { return train_idx_.size(); }
    const std::vector<int64_t>& train_indices() const { return train_idx_; }  // rows of the training dataset
    // Rows of the training dataset held out for validation; empty when a separate validation dataset was given.
    const std::vector<int64_t>& validation_indices() const { return val_idx_; }
    size_t validation_size() const { return val_data_ == &data_ ? val_idx_.size() : static_cast<size_t>(val_data_ ? val_data_->size() : 0); }
    Optimizer& optimizer() { return opt_; }

    // Model weights + optimizer state + progress; resume() restores the last two into a fresh Trainer built
    // over Model::from_artifact(checkpoint) with the same data and descriptor.
    ModelArtifact checkpoint() const;
    void resume(const ModelArtifact& checkpoint);

private:
    void start_epoch();
    void end_epoch();
    double monitored(const EpochStats& s) const;

    Model& model_;
    const Dataset& data_;
    const Dataset* val_data_ = nullptr;  // &data_ when validating on a hold-out of it
    TrainDesc desc_;
    Optimizer opt_;
    Tensor features_;  // contiguous view of data_.features
    std::vector<int64_t> train_idx_, val_idx_, order_;
    int64_t batches_ = 0, batch_ = 0;
    int epoch_ = 0;
    bool done_ = false;
    std::string reason_;
    double last_loss_ = 0, loss_sum_ = 0;
    int64_t seen_ = 0, correct_ = 0;
    std::vector<EpochStats> history_;
    int best_epoch_ = 0, bad_epochs_ = 0, restored_epoch_ = 0;
    double best_value_ = 0;
    std::vector<Tensor> best_weights_;
};

//-----------------------------------------------------------------------------
// [SECTION] Training history (the registry's record of a run)
//-----------------------------------------------------------------------------

// A version's "training_history": one array per quantity, element i for epoch i + 1, so a chart reads a column
// directly: {"loss", "lr", "accuracy" (classifiers), "val_loss" and "val_accuracy" (with validation data),
// "best_epoch" (0 without early stopping), "stop_reason"}. Every front end (CLI, dashboard, JS API) records it so.
Json training_history_json(const Trainer& trainer);

// The curves of a stored "training_history". Also reads the per-epoch rows ({"epochs": [{"loss", ...}, ...]})
// that versions registered by earlier command-line builds carry: stored versions never change.
struct TrainingCurves {
    std::vector<double> loss, accuracy, val_loss, val_accuracy;
    int best_epoch = 0;  // 1-based; 0 without early stopping
};
TrainingCurves training_curves(const Json& history);

}  // namespace cairn

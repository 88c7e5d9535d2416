// Index of this file
// [SECTION] Descriptors
// [SECTION] Batches and the validation split
// [SECTION] Evaluation
// [SECTION] Trainer
#include "core/train.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "core/parallel.h"
#include "core/preprocess.h"
#include "core/random.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Descriptors
//-----------------------------------------------------------------------------

[[noreturn]] static void bad_train(const std::string& field, const std::string& expected, const std::string& got) {
    fail("invalid_argument", "train." + field + ": expected " + expected + ", got " + got);
}

TrainDesc resolve(const TrainDesc& in) {
    TrainDesc d = in;
    if (d.epochs == 0) d.epochs = 10;
    if (d.batch_size == 0) d.batch_size = 32;
    if (d.epochs < 0) bad_train("epochs", "an integer >= 1", std::to_string(d.epochs));
    if (d.batch_size < 0) bad_train("batch_size", "an integer >= 1", std::to_string(d.batch_size));
    if (!(d.validation_split >= 0 && d.validation_split <= 0.9f))
        bad_train("validation_split", "a fraction in [0, 0.9]", Json(d.validation_split).dump());
    EarlyStoppingDesc& e = d.early_stopping;
    if (e.monitor.empty()) e.monitor = "val_loss";
    if (e.monitor != "val_loss" && e.monitor != "val_accuracy")
        bad_train("early_stopping.monitor", "\"val_loss\" or \"val_accuracy\"", "\"" + e.monitor + "\"");
    if (e.patience < 0) bad_train("early_stopping.patience", "an integer >= 0 (0 = off)", std::to_string(e.patience));
    if (!(e.min_delta >= 0)) bad_train("early_stopping.min_delta", "a number >= 0", Json(e.min_delta).dump());
    d.optimizer = resolve(d.optimizer);
    return d;
}

//-----------------------------------------------------------------------------
// [SECTION] Batches and the validation split
//-----------------------------------------------------------------------------

namespace {

struct Batch {
    Tensor x, targets;
    std::vector<int32_t> labels;
};

Batch gather(const Dataset& d, const Tensor& features, const int64_t* idx, int64_t count) {
    Batch b;
    Shape s = features.shape();
    s[0] = count;
    b.x = Tensor::empty(s);
    const int64_t per = features.numel() / std::max<int64_t>(features.dim(0), 1);
    // A shuffled batch's rows lie anywhere in the dataset, so each copy waits on memory: the threads share them
    // (Fashion-MNIST, batch 64 in wasm: 15 µs of a step on one thread).
    float* dst = b.x.data();
    const float* src = features.data();
    const int tasks = static_cast<int>(std::min<int64_t>(num_threads(), count));
    parallel_for(tasks, [&](int t) {
        for (int64_t i = count * t / tasks; i < count * (t + 1) / tasks; ++i)
            std::memcpy(dst + i * per, src + idx[i] * per, sizeof(float) * per);
    });
    if (!d.labels.empty()) {
        b.labels.resize(count);
        for (int64_t i = 0; i < count; ++i) b.labels[i] = d.labels[idx[i]];
    }
    if (d.targets.defined()) {
        Tensor t = d.targets.contiguous();
        int64_t k = t.numel() / std::max<int64_t>(t.dim(0), 1);
        b.targets = Tensor::empty({count, k});
        for (int64_t i = 0; i < count; ++i) std::memcpy(b.targets.data() + i * k, t.data() + idx[i] * k, sizeof(float) * k);
    }
    return b;
}

// The predicted class of one row of a batch's outputs (classification only): the argmax, or for one logit its sign.
int32_t predicted_class(const float* row, int64_t k) {
    return k == 1 ? (row[0] > 0 ? 1 : 0) : static_cast<int32_t>(std::max_element(row, row + k) - row);
}

// Correct predictions in a batch (classification only).
int64_t count_correct(const Tensor& out, const std::vector<int32_t>& labels) {
    int64_t n = out.dim(0), k = out.dim(1), correct = 0;
    for (int64_t i = 0; i < n; ++i) correct += predicted_class(out.data() + i * k, k) == labels[i];
    return correct;
}

bool has_accuracy(const Model& m, const Dataset& d) {
    return !d.labels.empty() && (m.loss() == LossKind::cross_entropy ||
                                 (m.loss() == LossKind::binary_cross_entropy && m.num_outputs() == 1));
}

void check_compatible(const Model& m, const Dataset& d, const char* which) {
    std::string w = which;
    if (d.size() == 0) fail("invalid_argument", w + " dataset is empty");
    if (!d.features.defined() || d.features.dtype() != DType::f32)
        fail("invalid_argument", w + " dataset has no f32 features");
    int64_t per = d.features.numel() / d.size();
    if (per != shape_numel(m.input_shape()))
        fail("shape_mismatch", w + " dataset has " + std::to_string(per) + " values per sample, the model's input " +
                                   shape_str(m.input_shape()) + " needs " + std::to_string(shape_numel(m.input_shape())));
    // Checked up front: kernels need not propagate NaN (a SIMD max or tanh may turn it into a number), so a bad
    // value in the data could otherwise train silently.
    const Tensor features = d.features.contiguous();
    const float* f = features.data();
    for (int64_t i = 0, n = features.numel(); i < n; ++i)
        if (!std::isfinite(f[i]))
            fail("invalid_argument", w + " dataset: sample " + std::to_string(i / per) + ", feature " +
                                         std::to_string(i % per) + " is " + (std::isnan(f[i]) ? "NaN" : "infinite"));
    if (m.loss() == LossKind::mse) {
        if (!d.targets.defined() || d.targets.numel() != d.size() * m.num_outputs())
            fail("invalid_argument", w + " dataset needs regression targets with " + std::to_string(m.num_outputs()) +
                                         " value(s) per sample for an \"mse\" model");
        return;
    }
    if (d.labels.size() != static_cast<size_t>(d.size()) && !(m.loss() == LossKind::binary_cross_entropy && d.targets.defined()))
        fail("invalid_argument", w + " dataset has " + std::to_string(d.labels.size()) + " labels for " +
                                     std::to_string(d.size()) + " samples");
    int64_t classes = m.loss() == LossKind::binary_cross_entropy ? 2 : m.num_outputs();
    for (size_t i = 0; i < d.labels.size(); ++i)
        if (d.labels[i] < 0 || d.labels[i] >= classes)
            fail("invalid_label", w + " dataset: label " + std::to_string(d.labels[i]) + " of sample " + std::to_string(i) +
                                      " does not fit the model's " + std::to_string(classes) + " classes");
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Evaluation
//-----------------------------------------------------------------------------

EvalResult evaluate(Model& model, const Dataset& data, const std::vector<int64_t>& indices, int64_t batch) {
    check_compatible(model, data, "evaluation");
    std::vector<int64_t> all;
    const std::vector<int64_t>* idx = &indices;
    if (indices.empty()) {
        all.resize(data.size());
        for (int64_t i = 0; i < data.size(); ++i) all[i] = i;
        idx = &all;
    }
    Tensor features = data.features.contiguous();
    EvalResult r;
    r.has_accuracy = has_accuracy(model, data);
    double loss = 0;
    const int64_t n = static_cast<int64_t>(idx->size());
    std::vector<int32_t> y_true, y_pred;
    for (int64_t s = 0; s < n; s += batch) {
        int64_t count = std::min(batch, n - s);
        Batch b = gather(data, features, idx->data() + s, count);
        Tensor out = model.forward(b.x, false);
        loss += count * model_loss(model.loss(), out, b.labels.empty() ? nullptr : b.labels.data(),
                                   b.targets.defined() ? &b.targets : nullptr, nullptr);
        if (r.has_accuracy)
            for (int64_t i = 0; i < count; ++i) {
                y_pred.push_back(predicted_class(out.data() + i * out.dim(1), out.dim(1)));
                y_true.push_back(b.labels[static_cast<size_t>(i)]);
            }
    }
    r.samples = n;
    r.loss = n ? loss / n : 0;
    if (r.has_accuracy && n) {
        const int64_t k = std::max<int64_t>(model.num_outputs(), 2);  // a single logit scores two classes
        const ConfusionMatrix cm = confusion_matrix(y_true, y_pred, k);
        r.accuracy = accuracy(y_true, y_pred);
        for (const ClassScores& c : per_class_scores(cm)) {
            r.macro_precision += c.precision / static_cast<double>(k);
            r.macro_recall += c.recall / static_cast<double>(k);
            r.macro_f1 += c.f1 / static_cast<double>(k);
        }
    }
    return r;
}

Json EvalResult::to_json() const {
    Json j = {{"loss", loss}, {"samples", samples}};
    if (has_accuracy) {
        j["accuracy"] = accuracy;
        j["macro_precision"] = macro_precision;
        j["macro_recall"] = macro_recall;
        j["macro_f1"] = macro_f1;
    }
    return j;
}

//-----------------------------------------------------------------------------
// [SECTION] Trainer
//-----------------------------------------------------------------------------

Trainer::Trainer(Model& model, const Dataset& train, const TrainDesc& desc, const Dataset* validation)
    : model_(model), data_(train), desc_(resolve(desc)), opt_(desc_.optimizer, model.trainable()) {
    check_compatible(model_, data_, "training");
    features_ = data_.features.contiguous();
    auto all_samples = [&] {
        train_idx_.resize(static_cast<size_t>(data_.size()));
        std::iota(train_idx_.begin(), train_idx_.end(), int64_t{0});
    };
    if (validation) {
        check_compatible(model_, *validation, "validation");
        val_data_ = validation;
        all_samples();
    } else if (desc_.validation_split > 0) {
        SplitDesc sd;  // stratified for classification (core/preprocess.h)
        sd.validation = desc_.validation_split;
        sd.seed = desc_.seed;
        Split split = split_dataset(data_, sd);
        train_idx_ = std::move(split.train_indices);
        val_idx_ = std::move(split.validation_indices);
        if (val_idx_.empty() || train_idx_.empty())
            bad_train("validation_split", "a fraction leaving samples on both sides",
                      Json(desc_.validation_split).dump() + " of " + std::to_string(data_.size()) + " samples");
        val_data_ = &data_;
    } else {
        all_samples();
    }
    if (desc_.early_stopping.patience > 0 && !val_data_)
        bad_train("early_stopping.patience", "validation data (set validation_split or pass a validation set)", "none");
    if (desc_.early_stopping.monitor == "val_accuracy" && !has_accuracy(model_, data_))
        bad_train("early_stopping.monitor", "\"val_loss\" for a model without accuracy", "\"val_accuracy\"");
    int64_t n = static_cast<int64_t>(train_idx_.size());
    batches_ = (n + desc_.batch_size - 1) / desc_.batch_size;
    if (desc_.optimizer.schedule.type == "cosine" && desc_.optimizer.schedule.total_steps == 0)
        opt_.set_total_steps(total_steps());
}

void Trainer::start_epoch() {
    order_ = train_idx_;
    if (!desc_.no_shuffle) {
        Rng rng(desc_.seed + static_cast<uint64_t>(epoch_), 0xda3e39cb94b95bdbULL);
        rng.shuffle(order_);
    }
    model_.seed_dropout(desc_.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(epoch_));
    loss_sum_ = 0;
    seen_ = correct_ = 0;
}

bool Trainer::step() {
    if (done_) return false;
    if (batch_ == 0) start_epoch();
    int64_t begin = batch_ * desc_.batch_size;
    int64_t count = std::min<int64_t>(desc_.batch_size, static_cast<int64_t>(order_.size()) - begin);
    Batch b = gather(data_, features_, order_.data() + begin, count);
    Tensor out = model_.forward(b.x, true), dout;
    double loss = model_loss(model_.loss(), out, b.labels.empty() ? nullptr : b.labels.data(),
                             b.targets.defined() && model_.loss() != LossKind::cross_entropy ? &b.targets : nullptr,
                             &dout);
    bool finite = std::isfinite(loss);
    const float* o = out.data();
    for (int64_t i = 0, n = out.numel(); finite && i < n; ++i) finite = std::isfinite(o[i]);
    if (!finite) {
        done_ = true;
        reason_ = "diverged";
        fail("diverged", "training diverged: " + std::string(std::isfinite(loss) ? "model output" : "loss") + " is " +
                             (std::isnan(loss) || std::isfinite(loss) ? "NaN" : "infinite") +
                             " at epoch " + std::to_string(epoch_ + 1) + ", batch " + std::to_string(batch_ + 1) +
                             " (try a lower learning rate or gradient clipping)");
    }
    model_.backward(dout);
    opt_.step();
    last_loss_ = loss;
    loss_sum_ += loss * count;
    seen_ += count;
    if (has_accuracy(model_, data_)) correct_ += count_correct(out, b.labels);
    if (++batch_ == batches_) end_epoch();
    return !done_;
}

double Trainer::monitored(const EpochStats& s) const {
    return desc_.early_stopping.monitor == "val_accuracy" ? -s.val_accuracy : s.val_loss;  // lower is better
}

void Trainer::end_epoch() {
    EpochStats s;
    s.epoch = epoch_ + 1;
    s.loss = seen_ ? loss_sum_ / seen_ : 0;
    s.has_accuracy = has_accuracy(model_, data_);
    s.accuracy = seen_ ? static_cast<double>(correct_) / seen_ : 0;
    s.lr = opt_.current_lr();
    if (val_data_) {
        EvalResult v = evaluate(model_, *val_data_, val_data_ == &data_ ? val_idx_ : std::vector<int64_t>{});
        s.has_validation = true;
        s.val_loss = v.loss;
        s.val_accuracy = v.accuracy;
    }
    history_.push_back(s);
    batch_ = 0;
    ++epoch_;
    const EarlyStoppingDesc& es = desc_.early_stopping;
    if (es.patience > 0) {
        double value = monitored(s);
        if (best_epoch_ == 0 || value < best_value_ - es.min_delta) {
            best_value_ = value;
            best_epoch_ = s.epoch;
            bad_epochs_ = 0;
            best_weights_.clear();
            for (Param* p : model_.params()) best_weights_.push_back(p->value.clone());
        } else if (++bad_epochs_ >= es.patience) {
            done_ = true;
            reason_ = "early_stopping";
        }
    }
    if (!done_ && epoch_ >= desc_.epochs) {
        done_ = true;
        reason_ = "completed";
    }
    if (done_ && !best_weights_.empty() && !es.keep_last) {
        std::vector<Param*> ps = model_.params();
        for (size_t i = 0; i < ps.size(); ++i) ps[i]->value.copy_from(best_weights_[i]);
        restored_epoch_ = best_epoch_;
    }
}

void Trainer::cancel() {
    if (done_) return;
    done_ = true;
    reason_ = "cancelled";
}

ModelArtifact Trainer::checkpoint() const {
    ModelArtifact a = model_.to_artifact();
    opt_.save(a);
    a.optimizer["progress"] = {{"epoch", epoch_}, {"batch", batch_}};
    return a;
}

void Trainer::resume(const ModelArtifact& a) {
    opt_.load(a);
    const Json& p = a.optimizer.contains("progress") ? a.optimizer["progress"] : Json();
    if (!p.is_object() || !p.value("epoch", Json()).is_number_integer() || !p.value("batch", Json()).is_number_integer())
        fail("invalid_artifact", "optimizer.progress: expected {\"epoch\": int, \"batch\": int}");
    int e = p["epoch"].get<int>();
    int64_t b = p["batch"].get<int64_t>();
    if (e < 0 || b < 0 || b >= std::max<int64_t>(batches_, 1))
        fail("invalid_artifact", "optimizer.progress: epoch " + std::to_string(e) + ", batch " + std::to_string(b) +
                                     " does not fit this training run");
    epoch_ = e;
    batch_ = 0;
    if (b > 0) {  // replay the epoch's order, then continue after the saved batch
        start_epoch();
        batch_ = b;
    }
    if (epoch_ >= desc_.epochs) {
        done_ = true;
        reason_ = "completed";
    }
}

//-----------------------------------------------------------------------------
// [SECTION] Training history
//-----------------------------------------------------------------------------

Json training_history_json(const Trainer& trainer) {
    Json loss = Json::array(), lr = Json::array(), acc = Json::array(), val_loss = Json::array(), val_acc = Json::array();
    for (const EpochStats& e : trainer.history()) {
        loss.push_back(e.loss);
        lr.push_back(shortest_decimal(e.lr));
        if (e.has_accuracy) acc.push_back(e.accuracy);
        if (e.has_validation) {
            val_loss.push_back(e.val_loss);
            if (e.has_accuracy) val_acc.push_back(e.val_accuracy);
        }
    }
    Json h = {{"loss", loss}, {"lr", lr}, {"best_epoch", trainer.best_epoch()}, {"stop_reason", trainer.stop_reason()}};
    if (!acc.empty()) h["accuracy"] = acc;
    if (!val_loss.empty()) h["val_loss"] = val_loss;
    if (!val_acc.empty()) h["val_accuracy"] = val_acc;
    return h;
}

TrainingCurves training_curves(const Json& history) {
    TrainingCurves c;
    if (!history.is_object()) return c;
    static const std::pair<const char*, std::vector<double> TrainingCurves::*> kColumns[] = {
        {"loss", &TrainingCurves::loss}, {"accuracy", &TrainingCurves::accuracy},
        {"val_loss", &TrainingCurves::val_loss}, {"val_accuracy", &TrainingCurves::val_accuracy}};
    const Json* rows = history.contains("epochs") && history["epochs"].is_array() ? &history["epochs"] : nullptr;
    for (const auto& [key, column] : kColumns) {
        std::vector<double>& out = c.*column;
        if (rows) {
            for (const Json& row : *rows)
                if (row.is_object() && row.contains(key) && row[key].is_number()) out.push_back(row[key].get<double>());
        } else if (history.contains(key) && history[key].is_array()) {
            for (const Json& v : history[key])
                if (v.is_number()) out.push_back(v.get<double>());
        }
    }
    if (history.contains("best_epoch") && history["best_epoch"].is_number_integer()) c.best_epoch = history["best_epoch"].get<int>();
    // Those rows carried val_loss and val_accuracy as 0 when there was no validation data; a real loss is never 0.
    if (rows && std::all_of(c.val_loss.begin(), c.val_loss.end(), [](double v) { return v == 0; })) {
        c.val_loss.clear();
        c.val_accuracy.clear();
    }
    return c;
}

}  // namespace cairn

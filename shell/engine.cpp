// The dashboard's engine. Until the core's trainer and registry are connected, training and checks are simulated
// with deterministic curves (same seed, same run), so every control and progress path can be exercised.
//
// Index of this file
// [SECTION] Core data (bundled datasets, baseline evaluation)
// [SECTION] Train
// [SECTION] Registry (samples, or core/registry.h over a Store)
// [SECTION] Playground
// [SECTION] Storage
// [SECTION] Tick
#include "shell/engine.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <chrono>
#include <ctime>
#include <iterator>
#include <fstream>

#include "core/data.h"
#include "core/metrics.h"
#include "core/model.h"
#include "core/preprocess.h"
#include "core/train.h"
#include "core/random.h"
#include "core/registry.h"

namespace cairn::shell {

namespace {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string time_string(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::gmtime(&t));
    return buf;
}

std::string now_string() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::gmtime(&t));
    return buf;
}

// Every registry change goes through here: plan, commit (re-planning on a conflict), and hand the planner to the
// page (RegistryState::on_commit), which commits to IndexedDB later. Planners are kept: they capture by value.
Json registry_commit(App& app, const Planner& planner) {
    Json r = commit_plan(*app.registry.store, planner);
    if (app.registry.on_commit) app.registry.on_commit(planner, r.dump());
    return r;
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Core data (bundled datasets, baseline evaluation)
//-----------------------------------------------------------------------------

namespace {

void fill_eval(EvalState& e, const ClassificationReport& r) {
    e.class_names = r.class_names;
    e.confusion = r.confusion;
    e.roc.clear();
    for (auto& rc : r.roc) {
        shell::RocCurve c;
        c.fpr.assign(rc.fpr.begin(), rc.fpr.end());
        c.tpr.assign(rc.tpr.begin(), rc.tpr.end());
        c.auc = static_cast<float>(rc.auc);
        e.roc.push_back(std::move(c));
    }
}

const char* describe_dataset(const std::string& name) {
    if (name == "iris") return "Fisher's iris flowers: 4 measurements, 3 species";
    if (name == "digits") return "8x8 handwritten digits (UCI), grey levels 0..16";
    if (name == "breast_cancer") return "Wisconsin diagnostic breast cancer: 30 cell-nucleus features";
    if (name.rfind("fashion_mnist", 0) == 0) return "Fashion-MNIST subset: 28x28 grey clothing images, 10 classes";
    return "";
}

// A dataset the user opened, else a bundled one.
bool has_dataset(const App& app, const std::string& name) { return app.data.opened.count(name) || has_bundled_dataset(name); }

Dataset dataset_named(const App& app, const std::string& name) {
    auto it = app.data.opened.find(name);
    return it != app.data.opened.end() ? *it->second : load_bundled_dataset(name);
}

DatasetView view_of(const Dataset& ds) {
    DatasetView v;
    v.name = ds.name;
    v.description = describe_dataset(ds.name);
    v.rows = ds.size();
    v.columns = ds.schema.feature_names;
    v.class_names = ds.schema.class_names;
    v.class_counts.assign(v.class_names.size(), 0);
    for (int32_t l : ds.labels)
        if (l >= 0 && static_cast<size_t>(l) < v.class_counts.size()) ++v.class_counts[static_cast<size_t>(l)];
    Tensor f = ds.features.contiguous();
    int64_t d = ds.size() ? f.numel() / ds.size() : 0;
    const float* x = f.data<float>();
    for (int64_t i = 0; i < std::min<int64_t>(8, ds.size()) && !ds.schema.is_image(); ++i) {
        std::vector<float> row(x + i * d, x + (i + 1) * d);
        row.push_back(static_cast<float>(ds.labels[static_cast<size_t>(i)]));
        v.preview.push_back(std::move(row));
    }
    // Images: the schema's shape; digits are 8x8 images stored as 64 grey columns (0..16).
    int h = static_cast<int>(ds.schema.image_h), w = static_cast<int>(ds.schema.image_w), c = std::max<int>(1, static_cast<int>(ds.schema.image_c));
    float scale = 255.0f;
    if (!ds.schema.is_image() && ds.name == "digits" && d == 64) h = w = 8, c = 1, scale = 255.0f / 16.0f;
    if (h > 0 && w > 0 && d == static_cast<int64_t>(h) * w * c) {
        v.image_h = h, v.image_w = w;
        for (int64_t i = 0; i < std::min<int64_t>(30, ds.size()); ++i) {
            std::vector<uint8_t> img(static_cast<size_t>(h) * w);
            for (size_t p = 0; p < img.size(); ++p) {
                float s = 0;
                for (int k = 0; k < c; ++k) s += x[i * d + static_cast<int64_t>(p) * c + k];
                img[p] = static_cast<uint8_t>(std::clamp(s / c * scale, 0.0f, 255.0f) + 0.5f);
            }
            v.thumbnails.push_back(std::move(img));
            v.thumbnail_labels.push_back(ds.labels[static_cast<size_t>(i)]);
        }
    }
    return v;
}

// Nearest class mean on digits (every fifth sample held out), scored as a softmax over negative squared
// distances: a real, reproducible model to evaluate and to draw against until trained versions exist.
void digits_baseline(App& app, const Dataset& ds) {
    const int64_t n = ds.size(), d = 64;
    const int k = static_cast<int>(ds.num_classes());
    if (d != ds.features.numel() / std::max<int64_t>(1, n) || k < 2) return;
    Tensor f = ds.features.contiguous();
    const float* x = f.data<float>();
    std::vector<std::vector<float>> mean(static_cast<size_t>(k), std::vector<float>(d, 0.0f));
    std::vector<int> count(static_cast<size_t>(k), 0);
    for (int64_t i = 0; i < n; ++i) {
        if (i % 5 == 0) continue;
        int l = ds.labels[static_cast<size_t>(i)];
        for (int64_t j = 0; j < d; ++j) mean[static_cast<size_t>(l)][j] += x[i * d + j] / 16.0f;
        ++count[static_cast<size_t>(l)];
    }
    for (int c = 0; c < k; ++c)
        for (auto& m : mean[static_cast<size_t>(c)]) m /= std::max(1, count[static_cast<size_t>(c)]);
    std::vector<int32_t> y;
    std::vector<float> probs;
    for (int64_t i = 0; i < n; i += 5) {
        std::vector<float> logit(static_cast<size_t>(k));
        for (int c = 0; c < k; ++c) {
            float dist = 0;
            for (int64_t j = 0; j < d; ++j) dist += (x[i * d + j] / 16.0f - mean[static_cast<size_t>(c)][j]) * (x[i * d + j] / 16.0f - mean[static_cast<size_t>(c)][j]);
            logit[static_cast<size_t>(c)] = -dist;
        }
        float mx = *std::max_element(logit.begin(), logit.end()), sum = 0;
        for (auto& l : logit) sum += (l = std::exp(l - mx));
        for (auto l : logit) probs.push_back(l / sum);
        y.push_back(ds.labels[static_cast<size_t>(i)]);
    }
    Tensor p = Tensor::from({static_cast<int64_t>(y.size()), k}, probs.data());
    ClassificationReport r = evaluate_classification(y, p, ds.schema.class_names);
    auto& e = app.eval;
    e.model = "digits nearest-class-mean baseline";
    e.scope = "the held-out fifth (" + std::to_string(y.size()) + " samples)";
    e.version = 0;
    fill_eval(e, r);
    app.playground.templates = std::move(mean);
    // Start the canvas with a held-out "3", so the panel shows a real prediction before anyone draws.
    for (int64_t i = 0; i < n; i += 5)
        if (ds.labels[static_cast<size_t>(i)] == 3) {
            app.playground.size = 8;
            app.playground.canvas.assign(64, 0.0f);
            for (int64_t j = 0; j < d; ++j) app.playground.canvas[static_cast<size_t>(j)] = x[i * d + j] / 16.0f;
            break;
        }
    app.playground.class_names = ds.schema.class_names;
}

}  // namespace

App make_app() {
    App app = make_sample_app();
    std::vector<DatasetView> views;
    for (const auto& name : bundled_dataset_names()) {
        if (name.size() > 5 && name.compare(name.size() - 5, 5, "_test") == 0) continue;  // held-out halves
        try {
            Dataset ds = load_bundled_dataset(name);
            if (name == "digits") digits_baseline(app, ds);
            views.push_back(view_of(ds));
        } catch (const std::exception& e) {
            app.train.message = "Could not load bundled dataset " + name + ": " + e.what();
        }
    }
    if (!views.empty()) {
        app.data.datasets = std::move(views);
        for (size_t i = 0; i < app.data.datasets.size(); ++i)
            if (app.data.datasets[i].name == "digits") app.data.selected = app.train.config.dataset = static_cast<int>(i);
    }
    // Training here is real (the core's Trainer): start from an empty run rather than the sample curves.
    app.train.state = RunState::idle;
    app.train.curves = {};
    app.train.epoch = app.train.step = 0;
    app.train.job = {"Training", 0.0f, 0.0, false};
    playground_predict(app);
    return app;
}

//-----------------------------------------------------------------------------
// [SECTION] Train
//-----------------------------------------------------------------------------

// The core's side of a run: the standardized data, the model built from the editor's architecture, its Trainer.
struct TrainSession {
    Dataset data;
    Preprocessing prep;
    Model model;
    std::unique_ptr<Trainer> trainer;
};

namespace {

// The editor's layers as the core's architecture JSON. Image inputs get a flatten before the first dense layer,
// and the output layer (dense, one unit per class, softmax) is added unless the last layer already is one.
Json architecture_json(const TrainConfig& c, const Dataset& ds) {
    Json layers = Json::array();
    bool flat = !ds.schema.is_image();
    for (auto& l : c.layers) {
        Json j;
        std::string act = l.activation == Activation::none ? "linear" : activation_name(l.activation);
        switch (l.kind) {
            case LayerKind::dense:
                if (!flat) layers.push_back({{"type", "flatten"}}), flat = true;
                j = {{"type", "dense"}, {"units", l.size}, {"activation", act}};
                break;
            case LayerKind::conv2d:
                j = {{"type", "conv2d"}, {"filters", l.size}, {"kernel_size", l.kernel}, {"padding", "same"}, {"activation", act}};
                break;
            case LayerKind::maxpool: j = {{"type", "maxpool2d"}}; break;
            case LayerKind::dropout: j = {{"type", "dropout"}, {"rate", l.size / 100.0}}; break;
            case LayerKind::flatten: j = {{"type", "flatten"}}, flat = true; break;
            case LayerKind::count: break;
        }
        layers.push_back(j);
    }
    int64_t k = ds.num_classes();
    if (!layers.empty() && layers.back()["type"] == "dense" && layers.back()["units"] == k) {
        layers.back()["activation"] = "softmax";
    } else {
        if (!flat) layers.push_back({{"type", "flatten"}});
        layers.push_back({{"type", "dense"}, {"units", k}, {"activation", "softmax"}});
    }
    Json input = Json::array();
    for (size_t i = 1; i < ds.features.shape().size(); ++i) input.push_back(ds.features.shape()[i]);
    return {{"input", input}, {"layers", layers}};
}

void sync_curves(TrainState& t) {
    auto& h = t.session->trainer->history();
    t.curves = {};
    for (auto& e : h) {
        t.curves.train_loss.push_back(static_cast<float>(e.loss));
        t.curves.train_acc.push_back(static_cast<float>(e.accuracy));
        t.curves.val_loss.push_back(static_cast<float>(e.has_validation ? e.val_loss : e.loss));
        t.curves.val_acc.push_back(static_cast<float>(e.has_validation ? e.val_accuracy : e.accuracy));
    }
    t.curves.best_epoch = t.session->trainer->best_epoch();
    t.kept_epoch = t.session->trainer->restored_epoch();
}

// How a run that ended by itself ended, after "Registered iris-mlp/3".
std::string run_ending(const Trainer& tr) {
    const int last = static_cast<int>(tr.history().size()), kept = tr.restored_epoch();
    std::string s = tr.stop_reason() == "early_stopping"
                        ? ": validation loss stopped improving, so training ended after epoch " + std::to_string(last) +
                              " of " + std::to_string(tr.desc().epochs)
                        : " after " + std::to_string(last) + " epochs";
    if (kept) s += "; epoch " + std::to_string(kept) + "'s weights kept (lowest validation loss)";
    return s;
}

}  // namespace

void data_open_csv(App& app, const std::string& name, std::string_view text) {
    auto& d = app.data;
    try {
        if (has_bundled_dataset(name)) fail("invalid_name", "'" + name + "' is the name of a bundled dataset: rename the file");
        auto ds = std::make_shared<const Dataset>(load_csv(text, name));
        if (ds->size() < 2) fail("parse_error", name + ": " + std::to_string(ds->size()) + " rows; training needs at least 2");
        DatasetView view = view_of(*ds);
        view.description = "opened from a CSV file";
        auto same = std::find_if(d.datasets.begin(), d.datasets.end(), [&](const DatasetView& v) { return v.name == name; });
        const int index = static_cast<int>(same - d.datasets.begin());
        if (same != d.datasets.end()) *same = std::move(view);  // opened again: the new contents replace the old
        else d.datasets.push_back(std::move(view));
        d.opened[name] = std::move(ds);
        d.selected = app.train.config.dataset = index;
        d.message = "Opened " + name;
    } catch (const std::exception& e) {
        d.message = std::string("Cannot open: ") + e.what();
    }
}

void train_start(App& app) {
    auto& t = app.train;
    if (t.state == RunState::paused) {
        t.state = RunState::running;
        t.job.running = true;
        t.message = "Resumed";
        return;
    }
    if (t.config.layers.empty()) {
        t.message = "Add at least one layer before training";
        return;
    }
    const auto& view = app.data.datasets.at(static_cast<size_t>(t.config.dataset));
    t.epoch = t.step = t.kept_epoch = 0;
    t.curves = {};
    t.session.reset();
    if (has_dataset(app, view.name)) {
        // A real run: the core's Trainer, a few batches per frame (engine_tick).
        try {
            auto s = std::make_shared<TrainSession>();
            Dataset raw = dataset_named(app, view.name);
            s->prep = fit_preprocessing(raw);
            s->data = s->prep.apply(raw);
            s->model = Model::from_json(architecture_json(t.config, s->data), static_cast<uint64_t>(t.config.seed));
            TrainDesc d;
            d.epochs = t.config.epochs;
            d.batch_size = t.config.batch_size;
            d.seed = static_cast<uint64_t>(t.config.seed);
            d.validation_split = 0.2f;
            d.optimizer.type = optimizer_name(t.config.optimizer);
            d.optimizer.lr = t.config.learning_rate;
            if (t.config.optimizer == Optimizer::momentum) d.optimizer.momentum = t.config.momentum;
            d.optimizer.weight_decay = t.config.weight_decay;
            if (t.config.early_stopping) d.early_stopping.patience = 3;
            s->trainer = std::make_unique<Trainer>(s->model, s->data, d);
            t.steps_per_epoch = static_cast<int>(s->trainer->batches_per_epoch());
            t.session = std::move(s);
        } catch (const std::exception& e) {
            t.state = RunState::idle;
            t.message = std::string("Cannot train: ") + e.what();
            return;
        }
    } else {
        t.steps_per_epoch = static_cast<int>(std::max<int64_t>(1, (view.rows * 8 / 10 + t.config.batch_size - 1) / t.config.batch_size));
    }
    t.job = {"Training", 0.0f, 0.0, true};
    t.state = RunState::running;
    t.message = "Training " + view.name + " with " + optimizer_name(t.config.optimizer) + ", seed " + std::to_string(t.config.seed);
}

void train_pause(App& app) {
    auto& t = app.train;
    if (t.state != RunState::running) return;
    t.state = RunState::paused;
    t.job.running = false;
    t.message = "Paused at epoch " + std::to_string(t.epoch + 1);
}

void train_stop(App& app) {
    auto& t = app.train;
    if (t.state == RunState::idle || t.state == RunState::done) return;
    t.state = RunState::done;
    t.job.running = false;
    if (t.session) {
        if (!t.session->trainer->done()) t.session->trainer->cancel();
        sync_curves(t);
    }
    if (t.curves.val_acc.empty()) {
        t.message = "Stopped before the first epoch finished: nothing to register";
        return;
    }
    const auto& ds = app.data.datasets.at(static_cast<size_t>(t.config.dataset));
    // The model's registry name from its dataset's: "iris-mlp", "my-data-1-mlp" for "my data (1).csv".
    std::string base = ds.name;
    if (base.size() > 4 && base.compare(base.size() - 4, 4, ".csv") == 0) base.resize(base.size() - 4);
    const std::string name = model_name_for(base, "-mlp");
    if (t.session && app.registry.store) {
        // A real run: register it in the registry (weights, preprocessing, curves, validation metrics).
        try {
            auto& sess = *t.session;
            VersionDesc d;
            d.model = name;
            d.model_description = "MLP trained on " + ds.name + " from the dashboard";
            d.artifact = sess.model.to_artifact();
            d.artifact.preprocessing = sess.prep.to_json();
            d.dataset_name = ds.name;
            d.dataset_schema = schema_to_json(sess.data.schema);
            d.dataset_samples = sess.data.size();
            d.hyperparameters = {{"optimizer", optimizer_name(t.config.optimizer)},
                                 {"learning_rate", shortest_decimal(t.config.learning_rate)},
                                 {"batch_size", t.config.batch_size}, {"epochs", t.config.epochs}, {"seed", t.config.seed},
                                 {"weight_decay", shortest_decimal(t.config.weight_decay)}};
            d.training_history = training_history_json(*sess.trainer);
            // Of the weights registered (early stopping restores its best epoch's, not the last epoch's).
            d.metrics = {{"train", evaluate(sess.model, sess.data, sess.trainer->train_indices()).to_json()}};
            if (!sess.trainer->validation_indices().empty())  // (empty indices would mean every row)
                d.metrics["validation"] = evaluate(sess.model, sess.data, sess.trainer->validation_indices()).to_json();
            d.created_ms = now_ms();
            Json reg = registry_commit(app, [d](const Store& st) { return plan_register(st, d); });
            Ref ref{reg["model"].get<std::string>(), reg["version"].get<int64_t>()};
            t.message = "Registered " + ref.str();
            registry_refresh(app);
            for (size_t i = 0; i < app.registry.models.size(); ++i)
                if (app.registry.models[i].name == name) app.registry.selected_model = static_cast<int>(i);
            app.registry.selected_version = static_cast<int>(ref.version);
        } catch (const std::exception& e) {
            t.message = std::string("Training finished but registering failed: ") + e.what();
        }
        return;
    }
    if (t.session) {
        t.message = "Training finished; no registry is attached, so the model was not saved";
        return;
    }
    // Sample mode: add the simulated run to the sample registry.
    auto& models = app.registry.models;
    auto it = std::find_if(models.begin(), models.end(), [&](auto& m) { return m.name == name; });
    if (it == models.end()) {
        models.push_back({name, {}, {}});
        it = models.end() - 1;
    }
    VersionInfo v;
    v.number = it->versions.empty() ? 1 : it->versions.back().number + 1;
    v.parent = 0;
    v.created = now_string();
    v.curves = t.curves;
    float acc = t.curves.val_acc.back();
    v.metrics = {{"accuracy", acc}, {"macro_f1", acc - 0.005f}, {"loss", t.curves.val_loss.back()}};
    std::string layers;
    for (auto& l : t.config.layers)
        if (l.kind == LayerKind::dense) layers += (layers.empty() ? "" : "-") + std::to_string(l.size);
    v.hyper = {{"optimizer", optimizer_name(t.config.optimizer)}, {"learning_rate", std::to_string(t.config.learning_rate)},
               {"layers", layers}, {"batch_size", std::to_string(t.config.batch_size)}, {"seed", std::to_string(t.config.seed)}};
    Rng rng(static_cast<uint64_t>(t.config.seed) * 7919u + v.number);
    static const char* hex = "0123456789abcdef";
    for (int i = 0; i < 64; ++i) v.hash += hex[rng.below(16)];
    v.size_bytes = 9000 + 4 * static_cast<int64_t>(layers.size()) * 512;
    int64_t size = v.size_bytes;
    int number = v.number;
    it->versions.push_back(std::move(v));
    app.storage.used_bytes += size;
    app.storage.integrity.push_back({name, number, "not checked"});
    t.message = "Registered " + name + " v" + std::to_string(number);
}

namespace {

// One simulated batch. The epoch's metrics follow a noisy exponential approach whose rate depends on the
// optimizer and learning rate, deterministic in the seed.
void train_batch(App& app) {
    auto& t = app.train;
    if (++t.step < t.steps_per_epoch) return;
    t.step = 0;
    int e = t.epoch++;
    Rng rng(static_cast<uint64_t>(t.config.seed) * 131u + static_cast<uint64_t>(e));
    float rate = t.config.optimizer == Optimizer::adam ? 0.35f : t.config.optimizer == Optimizer::momentum ? 0.25f : 0.15f;
    rate *= std::clamp(std::sqrt(t.config.learning_rate / 0.01f), 0.3f, 2.0f);
    float k = 1.0f - std::exp(-rate * (e + 1));
    float noise = 0.01f * rng.normal();
    t.curves.train_loss.push_back(2.3f * (1 - k) + 0.04f + 0.02f * std::fabs(rng.normal()));
    t.curves.val_loss.push_back(2.3f * (1 - k) + 0.08f + 0.02f * std::fabs(rng.normal()));
    t.curves.train_acc.push_back(std::min(0.999f, 0.1f + 0.88f * k + noise));
    t.curves.val_acc.push_back(std::min(0.999f, 0.1f + 0.85f * k + 0.7f * noise));
    if (t.epoch >= t.config.epochs) train_stop(app);
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Registry
//-----------------------------------------------------------------------------

namespace {

std::vector<float> floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

std::string json_value_string(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

// One version's manifest (and weights, for per-layer distances) as the panels' VersionInfo.
VersionInfo version_info(const Store& s, const Json& record, const Ref& ref) {
    VersionInfo v;
    v.number = static_cast<int>(ref.version);
    Json m = load_manifest(s, ref);
    v.created = time_string(m.value("created_ms", int64_t{0}));
    v.size_bytes = m["weights"].value("size", int64_t{0});
    if (m["optimizer_state"].is_object()) v.size_bytes += m["optimizer_state"].value("size", int64_t{0});
    v.hash = m["weights"].value("blob", std::string());
    if (m["parent"].is_object() && m["parent"].value("model", std::string()) == ref.model) v.parent = m["parent"].value("version", 0);
    // One value per metric, from the split that says most about the model: held-out test data, else validation.
    if (m["metrics"].is_object()) {
        std::vector<std::string> splits = {"test", "validation"};
        for (auto& [split, metrics] : m["metrics"].items())
            if (split != "test" && split != "validation") splits.push_back(split);
        for (const std::string& split : splits)
            if (m["metrics"].contains(split) && m["metrics"][split].is_object())
                for (auto& [k, x] : m["metrics"][split].items())
                    if (x.is_number() && !v.metrics.count(k)) v.metrics[k] = x.get<float>();
    }
    if (m["hyperparameters"].is_object())
        for (auto& [k, x] : m["hyperparameters"].items()) v.hyper[k] = json_value_string(x);
    if (record["aliases"].is_object())
        for (auto& [alias, target] : record["aliases"].items())
            if (target.is_number() && target.get<int64_t>() == ref.version) v.aliases.push_back(alias);
    v.archived = record["archived"].is_object() && record["archived"].contains(std::to_string(ref.version));
    Json note = version_annotation(record, m);
    v.notes = note["notes"];
    v.tags = note["tags"].get<std::vector<std::string>>();
    TrainingCurves h = training_curves(m["training_history"]);
    v.curves.train_loss = floats(h.loss);
    v.curves.val_loss = floats(h.val_loss);
    v.curves.train_acc = floats(h.accuracy);
    v.curves.val_acc = floats(h.val_accuracy);
    v.curves.best_epoch = h.best_epoch;
    LoadedVersion lv = load_version(s, ref.str());
    for (auto& nt : lv.artifact.weights) {
        Tensor t = nt.tensor.contiguous();
        if (t.dtype() != DType::f32) continue;
        v.layer_names.push_back(nt.name);
        v.layer_weights.emplace_back(t.data<float>(), t.data<float>() + t.numel());
    }
    return v;
}

}  // namespace

void registry_apply_samples(App& app);

void registry_attach(App& app, std::shared_ptr<Store> store) {
    app.registry.store = std::move(store);
    app.registry.models.clear();
    app.registry.selected_version = 0;
    app.storage.integrity.clear();
    registry_refresh(app);
}

void registry_refresh(App& app) {
    auto& r = app.registry;
    if (!r.store) return;
    const Store& s = *r.store;
    std::vector<ModelInfo> models;
    try {
        for (const auto& name : list_models(s)) {
            ModelInfo m;
            m.name = name;
            Json record = model_record(s, name);
            for (int64_t n : list_versions(s, name, true)) {
                try {
                    m.versions.push_back(version_info(s, record, {name, n}));
                } catch (const std::exception& e) {
                    VersionInfo unread;
                    unread.number = static_cast<int>(n);
                    if (store_still_loading(e.what())) unread.loading = true;  // shown in full once they arrive
                    else unread.damage = e.what();
                    m.versions.push_back(std::move(unread));
                }
            }
            if (record["history"].is_array())
                for (auto& h : record["history"])
                    m.alias_history.push_back({h.value("alias", std::string()), h["to"].is_number() ? h["to"].get<int>() : 0,
                                               time_string(h.value("time_ms", int64_t{0})), h.value("action", std::string())});
            models.push_back(std::move(m));
        }
    } catch (const std::exception& e) {
        r.message = std::string("Registry: ") + e.what();
    }
    r.models = std::move(models);
    // Storage: every key's bytes, and one integrity row per version.
    auto& st = app.storage;
    st.backend = s.describe();
    st.used_bytes = 0;
    try {
        for (const auto& key : s.list(""))
            if (auto b = s.get(key)) st.used_bytes += static_cast<int64_t>(b->size());
    } catch (const std::exception&) {  // a value the page has not loaded yet: counted once it is
    }
    std::vector<IntegrityRow> rows;
    for (auto& m : r.models)
        for (auto& v : m.versions) {
            std::string status = "not checked";
            for (auto& old : st.integrity)
                if (old.model == m.name && old.version == v.number) status = old.status;
            rows.push_back({m.name, v.number, status});
        }
    st.integrity = std::move(rows);
    if (!r.models.empty()) {
        auto& m = r.models[static_cast<size_t>(std::clamp(r.selected_model, 0, static_cast<int>(r.models.size()) - 1))];
        if (!m.versions.empty() && !m.find(r.selected_version)) r.selected_version = m.versions.back().number;
        if (m.versions.size() >= 2 && (!m.find(app.compare.a) || !m.find(app.compare.b)))
            app.compare = {m.versions[m.versions.size() - 2].number, m.versions.back().number};
    }
}

void registry_apply(App& app) {
    auto& r = app.registry;
    if (r.store && !r.models.empty()) {
        auto p = r.pending;
        r.pending = {};
        auto& m = r.models[static_cast<size_t>(std::clamp(r.selected_model, 0, static_cast<int>(r.models.size()) - 1))];
        std::string ref = m.name + "/" + std::to_string(p.version);
        try {
            int64_t t = now_ms();
            std::string model = m.name, alias = p.alias;
            if (p.action == "promote") registry_commit(app, [=](const Store& s) { return plan_set_alias(s, ref, alias, t, "dashboard"); });
            else if (p.action == "rollback") registry_commit(app, [=](const Store& s) { return plan_rollback(s, model, alias, t, "dashboard"); });
            else if (p.action == "archive") registry_commit(app, [=](const Store& s) { return plan_archive(s, ref, t, "dashboard"); });
            else if (p.action == "unarchive") registry_commit(app, [=](const Store& s) { return plan_unarchive(s, ref); });
            else if (p.action == "annotate") {
                std::vector<std::string> tags = split_tags(r.edit_tags);
                std::string notes = r.edit_notes;
                registry_commit(app, [=](const Store& s) { return plan_annotate(s, ref, notes, tags, t); });
                r.edit_version = 0;  // reload the edit buffers from what was stored
            }
            else if (p.action == "delete") registry_commit(app, [=](const Store& s) { return plan_delete(s, ref); });
            r.message = p.action + " " + (p.alias.empty() ? ref : p.alias + " of " + m.name) + ": done";
        } catch (const std::exception& e) {
            r.message = p.action + " failed: " + e.what();
        }
        registry_refresh(app);
        return;
    }
    registry_apply_samples(app);
}

void registry_apply_samples(App& app) {
    auto& r = app.registry;
    auto p = r.pending;
    r.pending = {};
    if (r.models.empty()) return;
    auto& m = r.models[static_cast<size_t>(std::clamp(r.selected_model, 0, static_cast<int>(r.models.size()) - 1))];
    auto set_alias = [&](const std::string& alias, int target, const char* action) {
        for (auto& v : m.versions) std::erase(v.aliases, alias);
        if (auto* v = m.find(target)) v->aliases.push_back(alias);
        m.alias_history.push_back({alias, target, now_string(), action});
    };
    if (p.action == "promote") {
        set_alias(p.alias, p.version, "promote");
        r.message = p.alias + " -> v" + std::to_string(p.version);
    } else if (p.action == "rollback") {
        // The alias's previous target in the append-only history.
        int current = m.alias_target(p.alias), previous = 0;
        for (auto& ev : m.alias_history)
            if (ev.alias == p.alias && ev.version != current && ev.version != 0) previous = ev.version;
        if (!previous) {
            r.message = "Nothing to roll back to: " + p.alias + " has no earlier version";
            return;
        }
        set_alias(p.alias, previous, "rollback");
        r.message = p.alias + " rolled back to v" + std::to_string(previous);
    } else if (p.action == "archive" || p.action == "unarchive") {
        if (auto* v = m.find(p.version)) v->archived = p.action == "archive";
    } else if (p.action == "annotate") {
        if (auto* v = m.find(p.version)) {
            v->notes = r.edit_notes;
            v->tags = split_tags(r.edit_tags);
        }
        r.edit_version = 0;
    } else if (p.action == "delete") {
        auto* v = m.find(p.version);
        if (v && !v->aliases.empty()) {
            r.message = "v" + std::to_string(p.version) + " has aliases; move them before deleting";
            return;
        }
        std::erase_if(m.versions, [&](auto& x) { return x.number == p.version; });
        r.selected_version = 0;
        r.message = "Deleted v" + std::to_string(p.version);
    }
}

//-----------------------------------------------------------------------------
// [SECTION] Playground
//-----------------------------------------------------------------------------

void playground_clear(App& app) {
    auto& p = app.playground;
    p.canvas.assign(static_cast<size_t>(p.size) * p.size, 0.0f);
    playground_predict(app);
}

struct LoadedModel {
    Model model;
    Preprocessing prep;
    std::string dataset;
};

namespace {

std::shared_ptr<LoadedModel> load_model(const Store& s, const std::string& ref) {
    LoadedVersion lv = load_version(s, ref);
    auto m = std::make_shared<LoadedModel>();
    m->model = Model::from_artifact(lv.artifact);
    m->prep = Preprocessing::from_json(lv.artifact.preprocessing);
    m->dataset = lv.manifest["dataset"].is_object() ? lv.manifest["dataset"].value("name", std::string()) : std::string();
    return m;
}

}  // namespace

namespace {

// Scores the canvas with a registry version when the selected model has one whose input is an 8x8 or 28x28 grey
// image (digits, Fashion-MNIST); returns false to fall back to the baseline.
bool playground_predict_model(App& app) {
    auto& p = app.playground;
    auto& r = app.registry;
    if (!r.store || r.models.empty()) return false;
    const auto& m = r.models[static_cast<size_t>(std::clamp(r.selected_model, 0, static_cast<int>(r.models.size()) - 1))];
    int version = p.use_production ? m.alias_target("production") : p.version;
    if (!version) return false;
    std::string ref = m.name + "/" + std::to_string(version);
    try {
        if (p.model_ref != ref || !p.model) {
            p.model = load_model(*r.store, ref);
            p.model_ref = ref;
        }
        const auto& shape = p.model->prep.input_shape;
        int64_t numel = shape_numel(shape);
        int side = numel == 64 ? 8 : numel == 784 ? 28 : 0;
        if (!side) return false;
        // Resample the canvas to the model's side (box average down, nearest up); digits use grey levels 0..16.
        std::vector<float> x(static_cast<size_t>(side) * side, 0.0f);
        for (int y = 0; y < side; ++y)
            for (int xx = 0; xx < side; ++xx) {
                int y0 = y * p.size / side, y1 = std::max(y0 + 1, (y + 1) * p.size / side);
                int x0 = xx * p.size / side, x1 = std::max(x0 + 1, (xx + 1) * p.size / side);
                float sum = 0;
                for (int a = y0; a < y1; ++a)
                    for (int b = x0; b < x1; ++b) sum += p.canvas[static_cast<size_t>(a) * p.size + b];
                x[static_cast<size_t>(y) * side + xx] = sum / static_cast<float>((y1 - y0) * (x1 - x0)) * (side == 8 ? 16.0f : 1.0f);
            }
        Shape batch_shape = {1};
        batch_shape.insert(batch_shape.end(), shape.begin(), shape.end());
        Tensor probs = p.model->model.predict_proba(p.model->prep.apply(Tensor::from(batch_shape, x.data())));
        p.class_names = p.model->prep.schema.class_names;
        p.probs.assign(probs.data<float>(), probs.data<float>() + probs.numel());
        p.source = ref + (p.use_production ? " (production)" : "");
        return p.probs.size() == p.class_names.size();
    } catch (const std::exception& e) {
        p.source = "cannot use " + ref + ": " + e.what();
        p.model.reset();
        p.model_ref.clear();
        return false;
    }
}

}  // namespace

void playground_predict(App& app) {
    auto& p = app.playground;
    if (playground_predict_model(app)) return;
    // Nearest class template: the digits baseline's class means (or glyphs in the sample app).
    if (p.source.rfind("cannot", 0) != 0) p.source = p.templates.empty() ? "glyph templates (sample)" : "digits nearest-class-mean baseline";
    if (!p.templates.empty()) {
        p.class_names.clear();
        for (int c = 0; c < 10; ++c) p.class_names.push_back(std::to_string(c));
    }
    size_t n = p.class_names.size();
    p.probs.assign(n, n ? 1.0f / n : 0.0f);
    if (n != 10 || p.canvas.size() != static_cast<size_t>(p.size) * p.size) return;
    float ink = 0;
    for (float v : p.canvas) ink += v;
    if (ink < 0.5f) return;
    std::vector<float> logits(n);
    for (size_t c = 0; c < n; ++c) {
        // The baseline's class means are 8x8: a 28x28 drawing is compared after box-averaging it down.
        std::vector<float> tpl, canvas = p.canvas;
        if (p.templates.size() == n) {
            tpl = p.templates[c];
            if (p.size != 8) {
                canvas.assign(64, 0.0f);
                for (int y = 0; y < p.size; ++y)
                    for (int x = 0; x < p.size; ++x)
                        canvas[static_cast<size_t>(y * 8 / p.size * 8 + x * 8 / p.size)] += p.canvas[static_cast<size_t>(y) * p.size + x] * 64.0f / (p.size * p.size);
            }
        } else {
            tpl = sample_digit(static_cast<int>(c), p.size, 1);
        }
        float d = 0;
        for (size_t i = 0; i < tpl.size(); ++i) d += (tpl[i] - canvas[i]) * (tpl[i] - canvas[i]);
        logits[c] = -d * 64.0f / static_cast<float>(tpl.size()) * 0.6f;
    }
    float mx = *std::max_element(logits.begin(), logits.end()), sum = 0;
    for (size_t c = 0; c < n; ++c) sum += (p.probs[c] = std::exp(logits[c] - mx));
    for (auto& v : p.probs) v /= sum;
}

//-----------------------------------------------------------------------------
// [SECTION] Storage
//-----------------------------------------------------------------------------

void storage_check_start(App& app) {
    auto& s = app.storage;
    for (auto& row : s.integrity) row.status = "pending";
    s.check = {"Checking integrity", 0.0f, 0.0, true};
}

void storage_export_start(App& app) {
    auto& s = app.storage;
    s.transfer = {"Exporting to " + s.export_path, 0.0f, 0.0, true};
    if (!app.registry.store) return;  // samples: the job only animates
    try {
        Bytes bytes = export_registry(*app.registry.store);
        if (s.save_file) {
            s.save_file(bytes, s.export_path);
        } else {
            std::ofstream f(s.export_path, std::ios::binary);
            f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
            if (!f) fail("io_error", "cannot write '" + s.export_path + "'");
        }
        s.message = "Exported " + std::to_string(bytes.size()) + " bytes to " + s.export_path;
    } catch (const std::exception& e) {
        s.message = std::string("Export failed: ") + e.what();
    }
    s.transfer = {"Exported to " + s.export_path, 1.0f, 0.0, false};
}

void storage_import_start(App& app) {
    auto& s = app.storage;
    if (s.open_file) {  // the page: the bytes arrive later, through storage_import_bytes
        s.open_file();
        return;
    }
    s.transfer = {"Importing " + s.export_path, 0.0f, 0.0, true};
    if (!app.registry.store) return;
    std::ifstream f(s.export_path, std::ios::binary);
    if (!f) {
        s.message = "Import failed: cannot read '" + s.export_path + "'";
        s.transfer = {"Import failed", 1.0f, 0.0, false};
        return;
    }
    storage_import_bytes(app, Bytes((std::istreambuf_iterator<char>(f)), {}), s.export_path);
}

void storage_import_bytes(App& app, const Bytes& bytes, const std::string& what) {
    auto& s = app.storage;
    if (!app.registry.store) return;
    try {
        Json r = registry_commit(app, [bytes, what](const Store& st) { return plan_import(st, bytes, what); });
        s.message = "Imported " + std::to_string(r.value("versions", Json::array()).size()) + " versions from " + what;
        s.transfer = {"Imported " + what, 1.0f, 0.0, false};
        registry_refresh(app);
    } catch (const std::exception& e) {
        s.message = std::string("Import failed: ") + e.what();
        s.transfer = {"Import failed", 1.0f, 0.0, false};
    }
}

bool store_still_loading(std::string_view error_message) { return error_message.rfind("need_fetch", 0) == 0; }

namespace {

void evaluate_ref(App& app, std::string model, int version) {  // by value: it may be app.eval.waiting_model
    auto& r = app.registry;
    const std::string ref = model + "/" + std::to_string(version);
    app.eval.waiting_model.clear();
    try {
        auto lm = load_model(*r.store, ref);
        if (!has_dataset(app, lm->dataset))
            fail("not_found", "its dataset '" + lm->dataset + "' is neither bundled nor open (Data panel: Open CSV)");
        Dataset ds = lm->prep.apply(dataset_named(app, lm->dataset));
        ClassificationReport rep = evaluate_classification(ds.labels, lm->model.predict_proba(ds.features), ds.schema.class_names);
        fill_eval(app.eval, rep);
        app.eval.model = model;
        app.eval.version = version;
        app.eval.scope = "all " + std::to_string(ds.size()) + " samples of " + lm->dataset + " (training data included)";
        r.message = "Evaluated " + ref + ": accuracy " + std::to_string(rep.accuracy).substr(0, 5);
        app.panel = Panel::evaluate;
    } catch (const std::exception& e) {
        if (store_still_loading(e.what())) {  // the values are on their way: evaluate_waiting() runs it then
            app.eval.waiting_model = model;
            app.eval.waiting_version = version;
            r.message = "Loading " + ref + " from storage to evaluate it...";
            return;
        }
        r.message = "Cannot evaluate " + ref + ": " + e.what();
    }
}

}  // namespace

void evaluate_version(App& app, int version) {
    auto& r = app.registry;
    if (r.models.empty() || !r.store) return;
    const auto& m = r.models[static_cast<size_t>(std::clamp(r.selected_model, 0, static_cast<int>(r.models.size()) - 1))];
    evaluate_ref(app, m.name, version);
}

void evaluate_waiting(App& app) {
    if (app.eval.waiting_model.empty() || !app.registry.store) return;
    evaluate_ref(app, app.eval.waiting_model, app.eval.waiting_version);
}

//-----------------------------------------------------------------------------
// [SECTION] Tick
//-----------------------------------------------------------------------------

void engine_tick(App& app, double dt_s) {
    auto& t = app.train;
    if (t.state == RunState::running && t.session) {
        auto& tr = *t.session->trainer;
        bool failed = false;
        try {
            for (int i = 0; i < t.batches_per_frame && tr.step(); ++i) {}
        } catch (const std::exception& e) {
            // A diverged run's weights are not a model anyone should deploy: nothing is registered, and the
            // message keeps the core's advice (the epoch and batch, a lower learning rate).
            t.message = std::string("Training stopped, nothing registered: ") + e.what();
            tr.cancel();
            failed = true;
        }
        sync_curves(t);
        t.epoch = tr.epoch(), t.step = static_cast<int>(tr.batch());
        t.job.elapsed_s += dt_s;
        t.job.progress = tr.total_steps() ? static_cast<float>(tr.steps_done()) / static_cast<float>(tr.total_steps()) : 1.0f;
        if (failed) {
            t.state = RunState::done;
            t.job.running = false;
        } else if (tr.done()) {
            t.job.progress = 1.0f;
            train_stop(app);
            if (app.train.message.rfind("Registered ", 0) == 0) t.message += run_ending(tr);
        }
    } else if (t.state == RunState::running) {
        for (int i = 0; i < t.batches_per_frame && t.state == RunState::running; ++i) train_batch(app);
        t.job.elapsed_s += dt_s;
        int total = std::max(1, t.config.epochs * t.steps_per_epoch);
        t.job.progress = static_cast<float>(t.epoch * t.steps_per_epoch + t.step) / static_cast<float>(total);
        if (t.state == RunState::done) t.job.progress = 1.0f;
    }
    auto& s = app.storage;
    if (s.check.running) {
        // One version verified per frame: load_version re-hashes the manifest and every blob.
        s.check.elapsed_s += dt_s;
        auto it = std::find_if(s.integrity.begin(), s.integrity.end(), [](auto& r) { return r.status == "pending"; });
        if (it != s.integrity.end()) {
            if (!app.registry.store) {
                it->status = "ok";
            } else {
                try {
                    load_version(*app.registry.store, it->model + "/" + std::to_string(it->version));
                    it->status = "ok";
                } catch (const std::exception& e) {
                    it->status = e.what();
                }
            }
        }
        size_t done = std::count_if(s.integrity.begin(), s.integrity.end(), [](auto& r) { return r.status != "pending"; });
        s.check.progress = s.integrity.empty() ? 1.0f : static_cast<float>(done) / static_cast<float>(s.integrity.size());
        if (done == s.integrity.size()) {
            s.check.running = false;
            s.message = "Integrity: " + std::to_string(done) + " versions verified";
        }
    }
    if (s.transfer.running) {
        s.transfer.elapsed_s += dt_s;
        s.transfer.progress = std::min(1.0f, s.transfer.progress + 0.02f);
        if (s.transfer.progress >= 1.0f) {
            s.transfer.running = false;
            s.message = s.transfer.label + ": done";
        }
    }
}

}  // namespace cairn::shell

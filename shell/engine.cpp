// The dashboard's engine. Until the core's trainer and registry are connected, training and checks are simulated
// with deterministic curves (same seed, same run), so every control and progress path can be exercised.
//
// Index of this file
// [SECTION] Core data (bundled datasets, baseline evaluation)
// [SECTION] Train
// [SECTION] Registry
// [SECTION] Playground
// [SECTION] Storage
// [SECTION] Tick
#include "shell/engine.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/data.h"
#include "core/metrics.h"
#include "core/random.h"

namespace cairn::shell {

namespace {

std::string now_string() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::gmtime(&t));
    return buf;
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Core data (bundled datasets, baseline evaluation)
//-----------------------------------------------------------------------------

namespace {

const char* describe_dataset(const std::string& name) {
    if (name == "iris") return "Fisher's iris flowers: 4 measurements, 3 species";
    if (name == "digits") return "8x8 handwritten digits (UCI), grey levels 0..16";
    if (name == "breast_cancer") return "Wisconsin diagnostic breast cancer: 30 cell-nucleus features";
    if (name.rfind("fashion_mnist", 0) == 0) return "Fashion-MNIST subset: 28x28 grey clothing images, 10 classes";
    return "";
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
    e.version = 0;
    e.class_names = ds.schema.class_names;
    e.confusion = r.confusion;
    e.roc.clear();
    for (auto& rc : r.roc) {
        shell::RocCurve c;
        c.fpr.assign(rc.fpr.begin(), rc.fpr.end());
        c.tpr.assign(rc.tpr.begin(), rc.tpr.end());
        c.auc = static_cast<float>(rc.auc);
        e.roc.push_back(std::move(c));
    }
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
    playground_predict(app);
    return app;
}

//-----------------------------------------------------------------------------
// [SECTION] Train
//-----------------------------------------------------------------------------

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
    const auto& ds = app.data.datasets.at(static_cast<size_t>(t.config.dataset));
    t.steps_per_epoch = static_cast<int>(std::max<int64_t>(1, (ds.rows * 8 / 10 + t.config.batch_size - 1) / t.config.batch_size));
    t.epoch = t.step = 0;
    t.curves = {};
    t.job = {"Training", 0.0f, 0.0, true};
    t.state = RunState::running;
    t.message = "Training " + ds.name + " with " + optimizer_name(t.config.optimizer) + ", seed " + std::to_string(t.config.seed);
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
    if (t.curves.val_acc.empty()) {
        t.message = "Stopped before the first epoch finished: nothing to register";
        return;
    }
    // Register the run as a new version of the dataset's model.
    const auto& ds = app.data.datasets.at(static_cast<size_t>(t.config.dataset));
    std::string name = ds.name + "-mlp";
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
    v.metrics = {{"accuracy", acc}, {"f1", acc - 0.005f}, {"loss", t.curves.val_loss.back()}};
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

void registry_apply(App& app) {
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
    } else if (p.action == "archive") {
        if (auto* v = m.find(p.version)) v->archived = !v->archived;
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

void playground_predict(App& app) {
    // Nearest class template (a stand-in for the model's forward pass until the trainer is connected).
    auto& p = app.playground;
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
    app.storage.transfer = {"Exporting to " + app.storage.export_path, 0.0f, 0.0, true};
}

void storage_import_start(App& app) {
    app.storage.transfer = {"Importing " + app.storage.export_path, 0.0f, 0.0, true};
}

void evaluate_version(App& app, int version) {
    if (app.registry.models.empty()) return;
    app.eval.model = app.registry.models[static_cast<size_t>(app.registry.selected_model)].name;
    app.eval.version = version;
}

//-----------------------------------------------------------------------------
// [SECTION] Tick
//-----------------------------------------------------------------------------

void engine_tick(App& app, double dt_s) {
    auto& t = app.train;
    if (t.state == RunState::running) {
        for (int i = 0; i < t.batches_per_frame && t.state == RunState::running; ++i) train_batch(app);
        t.job.elapsed_s += dt_s;
        int total = std::max(1, t.config.epochs * t.steps_per_epoch);
        t.job.progress = static_cast<float>(t.epoch * t.steps_per_epoch + t.step) / static_cast<float>(total);
        if (t.state == RunState::done) t.job.progress = 1.0f;
    }
    auto& s = app.storage;
    if (s.check.running) {
        // One version verified per frame (rehashing every blob is the slow part).
        s.check.elapsed_s += dt_s;
        auto it = std::find_if(s.integrity.begin(), s.integrity.end(), [](auto& r) { return r.status == "pending"; });
        if (it != s.integrity.end()) it->status = "ok";
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

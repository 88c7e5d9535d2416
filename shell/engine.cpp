// The dashboard's engine. Until the core's trainer and registry are connected, training and checks are simulated
// with deterministic curves (same seed, same run), so every control and progress path can be exercised.
//
// Index of this file
// [SECTION] Train
// [SECTION] Registry
// [SECTION] Playground
// [SECTION] Storage
// [SECTION] Tick
#include "shell/engine.h"

#include <algorithm>
#include <cmath>
#include <ctime>

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
        auto tpl = sample_digit(static_cast<int>(c), p.size, 1);
        float d = 0;
        for (size_t i = 0; i < tpl.size(); ++i) d += (tpl[i] - p.canvas[i]) * (tpl[i] - p.canvas[i]);
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

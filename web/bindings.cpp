// Embind bindings: the C++ core as seen from JavaScript (web/cairn.mjs wraps this into the public API).
//
// Index
//   [SECTION] Errors        every binding runs inside guard(): a cairn::Error becomes (code, message) that the JS side
//                           turns into a JS Error with .code; nothing C++ ever unwinds into JavaScript.
//   [SECTION] Mirror store  raw key-value access through the synchronous mirror of the stored records
//                           (web/mirror_store.h; commits are queued there for web/idb_store.mjs).
//   [SECTION] Datasets      CSV text, bundled, typed arrays
//   [SECTION] Models        predict (preprocessing applied), serialize for the worker -> page hand-over
//   [SECTION] Training      split, standardize, Trainer::step() in time slices driven from JS
//   [SECTION] Registry      plan_* against the mirror, reads verified by the core (SHA-256 of every record and blob)
//   [SECTION] Diagnostics   heap figures for leak tests.
//   [SECTION] Registration
//
// JSON crosses the boundary as strings (JSON.stringify / JSON.parse on the JS side); bulk numbers as typed arrays.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <cmath>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/bundle.h"
#include "core/data.h"
#include "core/error.h"
#include "core/metrics.h"
#include "core/model.h"
#include "core/parallel.h"
#include "core/preprocess.h"
#include "core/registry.h"
#include "core/store.h"
#include "core/train.h"
#include "web/mirror_store.h"

using emscripten::val;

namespace cairn::web {

//------------------------------------------------------------------------------
// [SECTION] Errors
//------------------------------------------------------------------------------
// The last error, read (and cleared) by JS after a binding returned. Exceptions cannot cross into JS with their
// message under -fwasm-exceptions, and a thrown JS exception would leak the C++ exception object.
struct LastError {
    std::string code, message;
};
static LastError g_error;

template <typename F>
auto guard(F&& f) -> decltype(f()) {
    g_error = {};
    try {
        return f();
    } catch (const Error& e) {
        g_error = {e.code(), e.what()};
    } catch (const NeedFetch& e) {
        std::string keys;
        for (const std::string& k : e.keys) keys += (keys.empty() ? "" : "\n") + k;
        g_error = {"need_fetch", keys};
    } catch (const std::bad_alloc&) {
        g_error = {"out_of_memory", "out of wasm memory"};
    } catch (const std::exception& e) {
        g_error = {"internal", e.what()};
    } catch (...) {
        g_error = {"internal", "unknown C++ exception"};
    }
    using R = decltype(f());
    if constexpr (std::is_same_v<R, val>) return val::undefined();
    else if constexpr (!std::is_void_v<R>) return R{};
}

static val take_error() {
    if (g_error.code.empty()) return val::null();
    val e = val::object();
    e.set("code", g_error.code);
    e.set("message", g_error.message);
    g_error = {};
    return e;
}

//------------------------------------------------------------------------------
// [SECTION] Helpers: bytes between JS and C++
//------------------------------------------------------------------------------
static Bytes to_bytes(const val& u8) {
    // convertJSArrayToNumberVector copies a typed array in one set() call.
    return emscripten::convertJSArrayToNumberVector<uint8_t>(u8);
}

static val to_u8(const Bytes& b) {
    // A copy owned by JS: the view into the wasm heap would dangle once the vector is freed or memory grows.
    return val::global("Uint8Array").new_(emscripten::typed_memory_view(b.size(), b.data())).call<val>("slice");
}

//------------------------------------------------------------------------------
// [SECTION] Mirror store
//------------------------------------------------------------------------------
// MirrorStore and its JS side (mirrorPut, mirrorPending, ...) live in web/mirror_store.{h,cpp}, shared with the page's
// dashboard. Below: raw key-value access through it.
// Raw key-value access through the mirror (tests of the store contract, and tools that inspect a registry).
static val kv_get(const std::string& key) {
    return guard([&]() -> val {
        auto v = mirror().get(key);
        return v ? to_u8(*v) : val::null();
    });
}
static val kv_list(const std::string& prefix) {
    return guard([&]() -> val {
        val out = val::array();
        for (const std::string& k : mirror().list(prefix)) out.call<void>("push", k);
        return out;
    });
}
// batch: {conditions: [{key, expected: Uint8Array|null}], writes: [{key, value: Uint8Array|null}]}
static bool kv_commit(const val& batch) {
    return guard([&]() -> bool {
        Batch b;
        val cs = batch["conditions"], ws = batch["writes"];
        for (int i = 0, n = cs.isUndefined() ? 0 : cs["length"].as<int>(); i < n; ++i) {
            val c = cs[i];
            val e = c["expected"];
            b.conditions.push_back({c["key"].as<std::string>(),
                                    e.isNull() || e.isUndefined() ? std::nullopt : std::optional(to_bytes(e))});
        }
        for (int i = 0, n = ws.isUndefined() ? 0 : ws["length"].as<int>(); i < n; ++i) {
            val w = ws[i];
            val v = w["value"];
            b.writes.push_back({w["key"].as<std::string>(),
                                v.isNull() || v.isUndefined() ? std::nullopt : std::optional(to_bytes(v))});
        }
        return mirror().commit(b);
    });
}

static Json parse_json(const std::string& text, const char* what) {
    if (text.empty()) return Json::object();
    try {
        return Json::parse(text);
    } catch (const Json::exception& e) {
        fail("parse_error", std::string(what) + ": invalid JSON: " + e.what());
    }
}

static Tensor tensor_from_js(const val& typed, const Shape& shape, const char* what) {
    const int64_t n = shape_numel(shape);
    const int64_t got = static_cast<int64_t>(typed["length"].as<double>());
    if (got != n) {
        std::string s;
        for (int64_t d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
        fail("shape_mismatch", std::string(what) + ": expected " + std::to_string(n) + " values (" + s + "), got " + std::to_string(got));
    }
    Tensor t = Tensor::empty(shape);
    val(emscripten::typed_memory_view(static_cast<size_t>(n), t.data())).call<void>("set", typed);
    // A JS number that is not one (Number("abc"), a missing field) arrives as NaN and would turn every output it
    // reaches into NaN without a word: refuse it here, where its position is still known.
    const float* v = t.data();
    for (int64_t i = 0; i < n; ++i) {
        if (std::isfinite(v[i])) continue;
        const int64_t per_sample = shape.empty() || shape[0] == 0 ? 1 : n / shape[0];
        fail("invalid_input", std::string(what) + ": value " + std::to_string(i) + " (sample " + std::to_string(i / per_sample) +
                                  ", feature " + std::to_string(i % per_sample) + ") is " +
                                  (std::isnan(v[i]) ? "NaN" : v[i] > 0 ? "Infinity" : "-Infinity") + "; expected a finite number");
    }
    return t;
}

static val f32_to_js(const float* p, size_t n) {
    return val::global("Float32Array").new_(emscripten::typed_memory_view(n, p)).call<val>("slice");
}

//------------------------------------------------------------------------------
// [SECTION] Datasets
//------------------------------------------------------------------------------
struct DatasetHandle {
    Dataset ds;
    std::string info() const {
        Json j = {{"name", ds.name}, {"samples", ds.size()}, {"schema", schema_to_json(ds.schema)},
                  {"shape", ds.features.defined() ? ds.features.shape() : Shape{}}};
        std::vector<int64_t> counts(ds.schema.class_names.size(), 0);
        for (int32_t l : ds.labels)
            if (l >= 0 && static_cast<size_t>(l) < counts.size()) counts[l]++;
        j["class_counts"] = counts;
        return j.dump();
    }
    std::string fingerprint() const { return guard([&] { return dataset_fingerprint(ds); }); }
    val features() const { return f32_to_js(ds.features.data(), static_cast<size_t>(ds.features.numel())); }
    val labels() const {
        return val::global("Int32Array").new_(emscripten::typed_memory_view(ds.labels.size(), ds.labels.data())).call<val>("slice");
    }
    // This dataset as the reference; `live` matched to it by name (core/preprocess.h match_schema).
    std::string drift(const DatasetHandle& live, int bins, double threshold) const {
        return guard([&] {
            DriftDesc desc;
            desc.bins = bins;
            desc.psi_threshold = threshold;
            const Dataset matched = match_schema(live.ds, ds.schema);
            return compute_drift(ds.features, matched.features, ds.schema.feature_names, desc).to_json().dump();
        });
    }
};

// opts: {"label": column, "labelOptional": bool, "task": "classification"|"regression", "delimiter": ","}
static DatasetHandle* dataset_from_csv(const std::string& text, const std::string& source, const std::string& opts_json) {
    return guard([&]() -> DatasetHandle* {
        Json o = parse_json(opts_json, "dataset options");
        CsvDesc d;
        d.label_column = o.value("label", "");
        d.label_optional = o.value("labelOptional", false);
        if (d.label_optional && d.label_column.empty())
            fail("invalid_argument", "dataset options: labelOptional needs label (the column that may be missing)");
        if (o.value("task", "classification") == "regression") d.task = Task::regression;
        std::string delim = o.value("delimiter", "");
        if (delim.size() > 1) fail("invalid_argument", "dataset options: delimiter must be one character, got '" + delim + "'");
        if (!delim.empty()) d.delimiter = delim[0];
        auto* h = new DatasetHandle{load_csv(text, source, d)};
        return h;
    });
}

static DatasetHandle* dataset_bundled(const std::string& name) {
    return guard([&] { return new DatasetHandle{load_bundled_dataset(name)}; });
}

static val dataset_bundled_names() {
    val out = val::array();
    for (const std::string& n : bundled_dataset_names()) out.call<void>("push", n);
    return out;
}

// meta: {"name", "shape": [n, d] or [n, h, w, c], "class_names": [...], "feature_names": [...], "label_name"}
static DatasetHandle* dataset_from_arrays(const val& features, const val& labels, const std::string& meta_json) {
    return guard([&]() -> DatasetHandle* {
        Json m = parse_json(meta_json, "dataset");
        if (!m.contains("shape") || !m["shape"].is_array() || m["shape"].size() < 2)
            fail("invalid_argument", "dataset: shape must be [samples, features] or [samples, h, w, c]");
        Shape shape = m["shape"].get<Shape>();
        auto h = std::make_unique<DatasetHandle>();
        Dataset& ds = h->ds;
        ds.name = m.value("name", "arrays");
        ds.features = tensor_from_js(features, shape, "dataset features");
        std::vector<int32_t> lab = emscripten::convertJSArrayToNumberVector<int32_t>(labels);
        if (static_cast<int64_t>(lab.size()) != shape[0])
            fail("shape_mismatch", "dataset labels: expected " + std::to_string(shape[0]) + " labels, got " + std::to_string(lab.size()));
        int32_t max_label = -1;
        for (size_t i = 0; i < lab.size(); ++i) {
            if (lab[i] < 0) fail("invalid_argument", "dataset labels: label " + std::to_string(lab[i]) + " at index " + std::to_string(i) + " is negative");
            max_label = std::max(max_label, lab[i]);
        }
        ds.labels = std::move(lab);
        Schema& sc = ds.schema;
        sc.class_names = m.value("class_names", std::vector<std::string>{});
        if (sc.class_names.empty())
            for (int32_t c = 0; c <= max_label; ++c) sc.class_names.push_back(std::to_string(c));
        if (max_label >= static_cast<int32_t>(sc.class_names.size()))
            fail("invalid_argument", "dataset labels: label " + std::to_string(max_label) + " but only " + std::to_string(sc.class_names.size()) + " class names");
        if (shape.size() == 4) sc.image_h = shape[1], sc.image_w = shape[2], sc.image_c = shape[3];
        else if (shape.size() != 2) fail("invalid_argument", "dataset: shape must have 2 or 4 dimensions");
        sc.feature_names = m.value("feature_names", std::vector<std::string>{});
        if (shape.size() == 2 && sc.feature_names.empty())
            for (int64_t i = 0; i < shape[1]; ++i) sc.feature_names.push_back("x" + std::to_string(i));
        sc.label_name = m.value("label_name", "label");
        return h.release();
    });
}

//------------------------------------------------------------------------------
// [SECTION] Models
//------------------------------------------------------------------------------
// A trained or loaded model with the preprocessing its inputs need. `info` carries what the registry records
// (dataset, hyperparameters, history, metrics) and, for a loaded version, its reference.
struct ModelHandle {
    Model model;
    Preprocessing pre;
    Json info = Json::object();

    ModelArtifact artifact() const {
        ModelArtifact a = model.to_artifact();
        a.preprocessing = pre.to_json();
        return a;
    }
    int64_t input_size() const { return shape_numel(model.input_shape()); }
    int64_t num_outputs() const { return model.num_outputs(); }
    std::string describe() const {
        Json j = info;
        j["architecture"] = model.architecture();
        j["preprocessing"] = pre.to_json();
        j["parameters"] = model.num_parameters();
        j["input_size"] = input_size();
        j["outputs"] = num_outputs();
        return j.dump();
    }
    // x: n * input_size values (one sample or a batch). Returns n * classes probabilities.
    val predict(const val& x) {
        return guard([&]() -> val {
            const int64_t d = input_size(), len = static_cast<int64_t>(x["length"].as<double>());
            if (d <= 0 || len == 0 || len % d != 0)
                fail("shape_mismatch", "predict: expected a multiple of " + std::to_string(d) + " values (one sample has " +
                                           std::to_string(d) + " features), got " + std::to_string(len));
            Shape shape = {len / d};
            for (int64_t s : pre.input_shape.empty() ? model.input_shape() : pre.input_shape) shape.push_back(s);
            Tensor in = tensor_from_js(x, shape, "predict input");
            Tensor p = model.predict_proba(pre.input_shape.empty() ? in : pre.apply(in)).contiguous();
            return f32_to_js(p.data(), static_cast<size_t>(p.numel()));
        });
    }
    // Weights + architecture + preprocessing + info in one safetensors buffer (the worker hands models over this way).
    val serialize() const {
        return guard([&]() -> val {
            ModelArtifact a = artifact();
            Bytes b = safetensors_encode(a.weights, {{"architecture", a.architecture.dump()},
                                                     {"preprocessing", a.preprocessing.dump()}, {"info", info.dump()}});
            return to_u8(b);
        });
    }
};

static ModelHandle* model_from_artifact(const ModelArtifact& a, Json info) {
    auto h = std::make_unique<ModelHandle>(ModelHandle{Model::from_artifact(a), {}, std::move(info)});
    if (!a.preprocessing.is_null() && !a.preprocessing.empty()) h->pre = Preprocessing::from_json(a.preprocessing);
    return h.release();
}

// Classification report of a model on a dataset in its raw (not yet standardized) form, as core/metrics.h writes it.
static Json classification_report(ModelHandle& m, const Dataset& raw, size_t roc_points) {
    if (m.model.loss() == LossKind::mse) fail("invalid_argument", "evaluate: the model does a regression; reports are for classifiers");
    if (raw.size() == 0) fail("invalid_argument", "evaluate: dataset '" + raw.name + "' is empty");
    // Matched to the model by name first: columns in the model's order, labels numbered as the model's classes.
    const Dataset d = m.pre.input_shape.empty() ? raw : m.pre.apply(raw);
    Tensor p = m.model.predict_proba(d.features);
    std::vector<std::string> names = m.pre.schema.class_names.empty() ? raw.schema.class_names : m.pre.schema.class_names;
    return evaluate_classification(d.labels, p, names).to_json(roc_points);
}

static ModelHandle* model_deserialize(const val& bytes) {
    return guard([&]() -> ModelHandle* {
        Bytes b = to_bytes(bytes);
        std::map<std::string, std::string> meta;
        ModelArtifact a;
        a.weights = safetensors_decode(b.data(), b.size(), "serialized model", &meta);
        a.architecture = parse_json(meta["architecture"], "serialized model architecture");
        a.preprocessing = parse_json(meta["preprocessing"], "serialized model preprocessing");
        return model_from_artifact(a, parse_json(meta["info"], "serialized model info"));
    });
}

//------------------------------------------------------------------------------
// [SECTION] Training
//------------------------------------------------------------------------------
// spec: {"model": "mlp"|"linear"|"cnn"|{architecture}, "epochs", "batch_size", "seed", "validation", "test",
//        "standardize": true, "optimizer": {OptimizerDesc JSON}, "early_stopping": {"patience", "monitor"}}
struct TrainingHandle {
    Json spec;
    Split split;
    Preprocessing pre;
    Dataset train, val, test;
    Model model;
    std::unique_ptr<Trainer> trainer;
    std::string dataset_name, fingerprint;
    Json schema;
    int64_t samples = 0;
    size_t reported_epochs = 0;

    // Runs batches until `budget_ms` has passed (at least one) or training ends. Returns progress JSON:
    // {"epoch", "epochs", "batch", "batches", "step", "steps", "loss", "done", "reason", "epochs_done": [new EpochStats]}
    std::string step(double budget_ms) {
        return guard([&]() -> std::string {
            const double start = emscripten_get_now();
            bool more = true;
            do more = trainer->step();
            while (more && emscripten_get_now() - start < budget_ms);
            Json j = {{"epoch", trainer->epoch() + (trainer->done() ? 0 : 1)}, {"epochs", trainer->desc().epochs},
                      {"batch", trainer->batch()}, {"batches", trainer->batches_per_epoch()},
                      {"step", trainer->steps_done()}, {"steps", trainer->total_steps()},
                      {"loss", trainer->last_loss()}, {"done", trainer->done()}, {"reason", trainer->stop_reason()}};
            Json epochs = Json::array();
            const auto& h = trainer->history();
            for (; reported_epochs < h.size(); ++reported_epochs) epochs.push_back(epoch_json(h[reported_epochs]));
            j["epochs_done"] = epochs;
            return j.dump();
        });
    }
    static Json epoch_json(const EpochStats& e) {
        Json j = {{"epoch", e.epoch}, {"loss", e.loss}, {"lr", e.lr}};
        if (e.has_accuracy) j["accuracy"] = e.accuracy;
        if (e.has_validation) {
            j["val_loss"] = e.val_loss;
            if (e.has_accuracy) j["val_accuracy"] = e.val_accuracy;
        }
        return j;
    }
    void cancel() { trainer->cancel(); }

    // The trained model with what the registry records about it; test metrics on the held-out part.
    ModelHandle* finish() {
        return guard([&]() -> ModelHandle* {
            Json history = training_history_json(*trainer);
            Json metrics = Json::object();
            for (auto [d, name] : {std::pair{&train, "train"}, {&val, "validation"}, {&test, "test"}})
                if (d->size()) metrics[name] = evaluate(model, *d).to_json();
            Json report;
            if (split.test.size() && model.loss() != LossKind::mse) {
                Tensor p = model.predict_proba(test.features);
                ClassificationReport r = evaluate_classification(test.labels, p, pre.schema.class_names);
                for (auto [k, v] : {std::pair{"log_loss", r.log_loss}, {"macro_auc", r.macro_auc}})
                    if (std::isfinite(v)) metrics["test"][k] = v;
                report = r.to_json(50);
            }
            Json hyper = spec;
            hyper.erase("model");
            Json info = {{"dataset", {{"name", dataset_name}, {"fingerprint", fingerprint}, {"schema", schema}, {"samples", samples}}},
                         {"hyperparameters", hyper}, {"history", history}, {"metrics", metrics},
                         {"stop_reason", trainer->stop_reason()}};
            if (!report.is_null()) info["test_report"] = report;
            ModelArtifact a = model.to_artifact();
            a.preprocessing = pre.to_json();
            return model_from_artifact(a, info);
        });
    }
};

static TrainingHandle* training_start(const DatasetHandle& data, const std::string& spec_json) {
    return guard([&]() -> TrainingHandle* {
        auto h = std::make_unique<TrainingHandle>();
        Json spec = parse_json(spec_json, "training options");
        h->spec = spec;
        const Dataset& ds = data.ds;
        if (ds.size() == 0) fail("invalid_argument", "train: dataset '" + ds.name + "' is empty");
        SplitDesc sd;
        sd.validation = spec.value("validation", 0.0);
        sd.test = spec.value("test", 0.0);
        sd.seed = spec.value("seed", uint64_t{0});
        h->split = split_dataset(ds, sd);
        PreprocessDesc pd;
        pd.no_standardize = !spec.value("standardize", true);
        h->pre = fit_preprocessing(h->split.train, pd);
        h->train = h->pre.apply(h->split.train);
        if (h->split.validation.size()) h->val = h->pre.apply(h->split.validation);
        if (h->split.test.size()) h->test = h->pre.apply(h->split.test);
        h->dataset_name = ds.name;
        h->fingerprint = dataset_fingerprint(ds);
        h->schema = schema_to_json(ds.schema);
        h->samples = ds.size();

        Json arch;
        Json m = spec.value("model", Json("mlp"));
        Shape input = ds.schema.is_image() ? Shape{ds.schema.image_h, ds.schema.image_w, ds.schema.image_c}
                                           : Shape{ds.features.dim(1)};
        if (m.is_string()) arch = architecture_preset(m.get<std::string>(), input, ds.num_classes());
        else if (m.is_object()) arch = m;
        else fail("invalid_argument", "training options: model must be a preset name or an architecture object");
        h->spec["architecture"] = arch;
        h->model = Model::from_json(arch, sd.seed);

        TrainDesc td;
        td.epochs = spec.value("epochs", 0);
        td.batch_size = spec.value("batch_size", 0);
        td.seed = sd.seed;
        if (spec.contains("optimizer")) td.optimizer = optimizer_from_json(spec["optimizer"]);
        if (spec.contains("early_stopping")) {
            const Json& e = spec["early_stopping"];
            td.early_stopping.patience = e.value("patience", 0);
            td.early_stopping.monitor = e.value("monitor", "");
            td.early_stopping.min_delta = e.value("min_delta", 0.0f);
        }
        h->trainer = std::make_unique<Trainer>(h->model, h->train, td, h->val.size() ? &h->val : nullptr);
        return h.release();
    });
}

//------------------------------------------------------------------------------
// [SECTION] Registry
//------------------------------------------------------------------------------
// Mutations plan against the mirror and queue the batch there (MirrorStore::commit); web/cairn.mjs commits the queue
// to IndexedDB in one transaction and re-runs the call if another tab got there first.
static std::string apply_plan(const Plan& p) {
    if (!p.batch.empty() && !mirror().commit(p.batch))
        fail("internal", "registry: a plan did not hold against the snapshot it was planned on");
    return p.result.dump();
}

// opts: {"name", "description", "notes", "tags", "parent"}
static std::string reg_register(const ModelHandle& m, const std::string& opts_json, double now_ms) {
    return guard([&] {
        Json o = parse_json(opts_json, "register options");
        VersionDesc d;
        d.model = o.value("name", "");
        d.model_description = o.value("description", "");
        d.artifact = m.artifact();
        const Json& info = m.info;
        if (info.contains("dataset")) {
            const Json& ds = info["dataset"];
            d.dataset_name = ds.value("name", "");
            d.dataset_fingerprint = ds.value("fingerprint", "");
            d.dataset_schema = ds.value("schema", Json());
            d.dataset_samples = ds.value("samples", int64_t{0});
        }
        d.hyperparameters = info.value("hyperparameters", Json::object());
        d.training_history = info.value("history", Json::object());
        d.metrics = info.value("metrics", Json::object());
        d.parent = o.value("parent", "");
        d.notes = o.value("notes", "");
        d.tags = o.value("tags", std::vector<std::string>{});
        d.created_ms = static_cast<int64_t>(now_ms);
        return apply_plan(plan_register(mirror(), d));
    });
}

static std::string reg_set_alias(const std::string& ref, const std::string& alias, double now, const std::string& reason) {
    return guard([&] { return apply_plan(plan_set_alias(mirror(), ref, alias, static_cast<int64_t>(now), reason)); });
}
static std::string reg_remove_alias(const std::string& model, const std::string& alias, double now, const std::string& reason) {
    return guard([&] { return apply_plan(plan_remove_alias(mirror(), model, alias, static_cast<int64_t>(now), reason)); });
}
static std::string reg_rollback(const std::string& model, const std::string& alias, double now, const std::string& reason) {
    return guard([&] { return apply_plan(plan_rollback(mirror(), model, alias, static_cast<int64_t>(now), reason)); });
}
static std::string reg_archive(const std::string& ref, double now, const std::string& reason) {
    return guard([&] { return apply_plan(plan_archive(mirror(), ref, static_cast<int64_t>(now), reason)); });
}
static std::string reg_unarchive(const std::string& ref) {
    return guard([&] { return apply_plan(plan_unarchive(mirror(), ref)); });
}
// annotation: {"notes": string, "tags": [string]}
static std::string reg_annotate(const std::string& ref, const std::string& annotation, double now) {
    return guard([&] {
        Json a = Json::parse(annotation);
        std::string notes = a.value("notes", "");
        std::vector<std::string> tags = a.value("tags", std::vector<std::string>{});
        return apply_plan(plan_annotate(mirror(), ref, notes, tags, static_cast<int64_t>(now)));
    });
}
static std::string reg_delete(const std::string& ref) {
    return guard([&] { return apply_plan(plan_delete(mirror(), ref)); });
}
static std::string reg_gc() {
    return guard([&] { return apply_plan(plan_gc(mirror())); });
}
static std::string reg_import(const val& bytes, const std::string& what) {
    return guard([&] { return apply_plan(plan_import(mirror(), to_bytes(bytes), what)); });
}

static std::string reg_list() {
    return guard([&] {
        const Store& s = mirror();
        Json out = Json::array();
        for (const std::string& name : list_models(s)) {
            Json rec = model_record(s, name);
            out.push_back({{"name", name}, {"description", rec.value("description", "")}, {"aliases", rec.value("aliases", Json::object())},
                           {"versions", list_versions(s, name, false)}, {"archived", rec.value("archived", Json::object())},
                           {"all_versions", list_versions(s, name, true)}});
        }
        return out.dump();
    });
}
static std::string reg_model(const std::string& name) {
    return guard([&] { return model_record(mirror(), name).dump(); });
}
static std::string reg_manifest(const std::string& ref) {
    return guard([&] {
        Ref r = resolve(mirror(), ref);
        Json m = load_manifest(mirror(), r);
        m["ref"] = r.str();
        return m.dump();
    });
}
static ModelHandle* reg_load(const std::string& ref) {
    return guard([&]() -> ModelHandle* {
        LoadedVersion lv = load_version(mirror(), ref);  // verifies every record's and blob's SHA-256
        Json info = {{"ref", lv.ref.str()}, {"model", lv.ref.model}, {"version", lv.ref.version}};
        for (const char* k : {"metrics", "hyperparameters", "dataset", "created_ms", "parent"})
            if (lv.manifest.contains(k)) info[k] = lv.manifest[k];
        Json note = version_annotation(model_record(mirror(), lv.ref.model), lv.manifest);
        info["notes"] = note["notes"];
        info["tags"] = note["tags"];
        if (lv.manifest.contains("training_history")) info["history"] = lv.manifest["training_history"];
        return model_from_artifact(lv.artifact, info);
    });
}
static std::string reg_diff(const std::string& a, const std::string& b) {
    return guard([&] { return compare_versions(mirror(), a, b).dump(); });
}
static std::string reg_verify() {
    return guard([&] { return verify_registry(mirror()).dump(); });
}
static val reg_export(const std::string& ref) {
    return guard([&]() -> val { return to_u8(ref.empty() ? export_registry(mirror()) : export_version(mirror(), ref)); });
}

//------------------------------------------------------------------------------
// [SECTION] Diagnostics
//------------------------------------------------------------------------------
static val heap_stats() {
    struct mallinfo mi = mallinfo();
    val o = val::object();
    o.set("allocated", static_cast<double>(mi.uordblks));  // bytes in use by malloc
    o.set("arena", static_cast<double>(mi.arena));          // bytes obtained from the wasm heap
    return o;
}

}  // namespace cairn::web

//------------------------------------------------------------------------------
// [SECTION] Registration
//------------------------------------------------------------------------------
EMSCRIPTEN_BINDINGS(cairn) {
    using namespace emscripten;
    using namespace cairn::web;
    function("takeError", &take_error);
    function("heapStats", &heap_stats);
    // Kernel threads (core/parallel.h): always 1 in cairn-core, up to CAIRN_WASM_THREADS in cairn-core-mt.
    function("setThreads", +[](int n) { cairn::set_num_threads(n); return cairn::num_threads(); });
    function("threads", +[] { return cairn::num_threads(); });
    function("threaded", +[] { return bool(CAIRN_THREADS); });

    function("kvGet", &kv_get);
    function("kvList", &kv_list);
    function("kvCommit", &kv_commit);
    class_<DatasetHandle>("Dataset")
        .function("info", +[](const DatasetHandle& d) { return d.info(); })
        .function("fingerprint", &DatasetHandle::fingerprint)
        .function("features", &DatasetHandle::features)
        .function("labels", &DatasetHandle::labels)
        .function("drift", &DatasetHandle::drift);
    function("datasetFromCSV", &dataset_from_csv, allow_raw_pointers());
    function("datasetBundled", &dataset_bundled, allow_raw_pointers());
    function("datasetBundledNames", &dataset_bundled_names);
    function("datasetFromArrays", &dataset_from_arrays, allow_raw_pointers());

    class_<ModelHandle>("Model")
        .function("describe", +[](const ModelHandle& m) { return guard([&] { return m.describe(); }); })
        .function("inputSize", +[](const ModelHandle& m) { return static_cast<double>(m.input_size()); })
        .function("numOutputs", +[](const ModelHandle& m) { return static_cast<double>(m.num_outputs()); })
        .function("predict", &ModelHandle::predict)
        .function("serialize", &ModelHandle::serialize)
        .function("evaluate", +[](ModelHandle& m, const DatasetHandle& d, int roc_points) {
            return guard([&] { return classification_report(m, d.ds, static_cast<size_t>(roc_points)).dump(); });
        });
    function("modelDeserialize", &model_deserialize, allow_raw_pointers());

    class_<TrainingHandle>("Training")
        .function("step", &TrainingHandle::step)
        .function("cancel", &TrainingHandle::cancel)
        .function("finish", &TrainingHandle::finish, allow_raw_pointers());
    function("trainingStart", &training_start, allow_raw_pointers());

    function("regRegister", &reg_register);
    function("regSetAlias", &reg_set_alias);
    function("regRemoveAlias", &reg_remove_alias);
    function("regRollback", &reg_rollback);
    function("regArchive", &reg_archive);
    function("regUnarchive", &reg_unarchive);
    function("regAnnotate", &reg_annotate);
    function("regDelete", &reg_delete);
    function("regGc", &reg_gc);
    function("regImport", &reg_import);
    function("regList", &reg_list);
    function("regModel", &reg_model);
    function("regManifest", &reg_manifest);
    function("regLoad", &reg_load, allow_raw_pointers());
    function("regDiff", &reg_diff);
    function("regVerify", &reg_verify);
    function("regExport", &reg_export);
}

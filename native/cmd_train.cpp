// `cairn train`, `cairn eval`, `cairn predict`: train a model on a dataset file or a bundled dataset, evaluate it,
// and print predictions, for a model file or a registry version. Models are saved as one file in the safetensors
// layout (8-byte little-endian header length, JSON header, raw little-endian data), with the architecture, optimizer
// config and preprocessing as JSON strings in "__metadata__" and optimizer state tensors prefixed "optimizer/".
//
// Index of this file
// [SECTION] Model files
// [SECTION] Datasets
// [SECTION] Progress and tables
// [SECTION] train
// [SECTION] eval, predict
// [SECTION] Registration
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/data.h"
#include "core/error.h"
#include "core/metrics.h"
#include "core/model.h"
#include "core/preprocess.h"
#include "core/registry.h"
#include "core/train.h"
#include "native/cli.h"
#include "native/file_store.h"

namespace cairn::cli {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("not_found", "cannot open '" + path + "'");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::string s = read_text(path);
    return std::vector<uint8_t>(s.begin(), s.end());
}

//-----------------------------------------------------------------------------
// [SECTION] Model files
//-----------------------------------------------------------------------------

void save_model(const ModelArtifact& a, const std::string& path) {
    Json header = Json::object();
    header["__metadata__"] = {{"format", "cairn-model-1"},
                              {"architecture", a.architecture.dump()},
                              {"optimizer", a.optimizer.dump()},
                              {"preprocessing", a.preprocessing.dump()}};
    std::vector<std::pair<std::string, const Tensor*>> all;
    for (const NamedTensor& t : a.weights) all.emplace_back(t.name, &t.tensor);
    for (const NamedTensor& t : a.optimizer_state) all.emplace_back("optimizer/" + t.name, &t.tensor);
    uint64_t offset = 0;
    for (auto& [name, t] : all) {
        uint64_t bytes = static_cast<uint64_t>(t->numel()) * 4;
        header[name] = {{"dtype", "F32"}, {"shape", t->shape()}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');  // safetensors pads the header with spaces to 8-byte alignment
    Bytes file(8);
    for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(uint64_t{h.size()} >> (8 * i));
    file.insert(file.end(), h.begin(), h.end());
    for (auto& [name, t] : all) {
        Tensor c = t->contiguous();
        const uint8_t* p = reinterpret_cast<const uint8_t*>(c.data());
        file.insert(file.end(), p, p + c.numel() * 4);
    }
    replace_file(path, file.data(), file.size());  // a full disk keeps the model file that was there
}

ModelArtifact load_model_file(const std::string& path) {
    std::string bytes = read_text(path);
    auto bad = [&](const std::string& why) { fail("parse_error", path + ": not a Cairn model file (" + why + ")"); };
    if (bytes.size() < 8) bad("shorter than 8 bytes");
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
    if (n > bytes.size() - 8) bad("header length " + std::to_string(n) + " exceeds the file");
    Json header;
    try {
        header = Json::parse(bytes.substr(8, n));
    } catch (const std::exception& e) {
        bad(std::string("header JSON: ") + e.what());
    }
    const char* data = bytes.data() + 8 + n;
    uint64_t data_size = bytes.size() - 8 - n;
    ModelArtifact a;
    const Json& meta = header.value("__metadata__", Json::object());
    if (meta.value("format", "") != "cairn-model-1") bad("missing __metadata__.format \"cairn-model-1\"");
    a.architecture = Json::parse(meta.value("architecture", "null"));
    a.optimizer = Json::parse(meta.value("optimizer", "null"));
    a.preprocessing = Json::parse(meta.value("preprocessing", "null"));
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        const Json& d = *it;
        if (d.value("dtype", "") != "F32") bad("tensor '" + it.key() + "' is not F32");
        Shape shape = d.at("shape").get<Shape>();
        uint64_t b = d.at("data_offsets")[0], e = d.at("data_offsets")[1];
        if (e < b || e > data_size || e - b != static_cast<uint64_t>(shape_numel(shape)) * 4)
            bad("tensor '" + it.key() + "' has bad data_offsets");
        Tensor t = Tensor::empty(shape);
        std::memcpy(t.data(), data + b, e - b);
        const std::string& name = it.key();
        if (name.rfind("optimizer/", 0) == 0) a.optimizer_state.push_back({name.substr(10), t});
        else a.weights.push_back({name, t});
    }
    return a;
}

// A registry reference (NAME/3, NAME@production, NAME@latest) that is not also a file's path.
bool is_version_ref(const std::string& arg) {
    if (fs::exists(arg)) return false;
    const size_t at = arg.find('@'), slash = arg.find('/');
    if (at != std::string::npos) return at > 0 && slash == std::string::npos;
    return slash != std::string::npos && slash > 0 && slash + 1 < arg.size() && arg.find('/', slash + 1) == std::string::npos &&
           std::all_of(arg.begin() + slash + 1, arg.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The model a command works on: a file written by `cairn train -o`, or a version in the registry, whose blobs are
// all checked against their SHA-256 as it loads (a damaged or altered version is refused, and the blob named).
ModelArtifact load_model_arg(const std::string& arg, const std::string& store) {
    if (!is_version_ref(arg)) return load_model_file(arg);
    FileStore s(store.empty() ? default_store_dir() : store);
    return load_version(s, arg).artifact;
}

//-----------------------------------------------------------------------------
// [SECTION] Datasets
//-----------------------------------------------------------------------------

const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

// An image folder has one sub-folder of images per class (and no IDX files).
bool is_image_folder(const std::string& dir) {
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory()) return true;
    return false;
}

// Every regular file in every class sub-folder is read; the core decodes, converts and resizes them (to the first
// image's size and channels) and names the file of any that is not an image.
Dataset load_images(const std::string& dir) {
    std::vector<std::string> classes;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory()) classes.push_back(e.path().filename().string());
    std::sort(classes.begin(), classes.end());
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<std::pair<std::string, std::string>> names;  // class, relative file name
    for (const std::string& c : classes) {
        std::vector<std::string> files;
        for (const auto& e : fs::directory_iterator(dir + "/" + c))
            if (e.is_regular_file()) files.push_back(e.path().filename().string());
        std::sort(files.begin(), files.end());
        for (const std::string& f : files) {
            bytes.push_back(read_bytes(dir + "/" + c + "/" + f));
            names.emplace_back(c, c + "/" + f);
        }
    }
    std::vector<ImageItem> items;
    for (size_t i = 0; i < bytes.size(); ++i) items.push_back({names[i].first, names[i].second, bytes[i]});
    Dataset d = load_image_folder(items, dir);
    d.name = dir;
    return d;
}

// A bundled name, "fashion_mnist" / "fashion_mnist_test" (the Debian package's files), a CSV file, an image folder,
// or a folder holding IDX files (train-* or, with test, t10k-*).
// label_optional: a CSV without label_column is new data, all features and no labels (predict, drift).
Dataset load_dataset(const std::string& spec, const std::string& label_column, bool regression, bool label_optional = false) {
    if (has_bundled_dataset(spec)) return load_bundled_dataset(spec);
    std::string path = spec;
    bool test = false;
    if (spec == "fashion_mnist" || spec == "fashion_mnist_test") {
        path = kFashionDir;
        test = spec == "fashion_mnist_test";
    }
    if (fs::is_directory(path) && is_image_folder(path)) return load_images(path);
    if (fs::is_directory(path)) {
        std::string prefix = test ? "t10k" : "train";
        std::string img = path + "/" + prefix + "-images-idx3-ubyte", lab = path + "/" + prefix + "-labels-idx1-ubyte";
        if (!fs::exists(img)) img += ".gz";
        if (!fs::exists(lab)) lab += ".gz";
        auto ib = read_bytes(img), lb = read_bytes(lab);
        Dataset d = load_idx(ib, img, lb, lab);
        d.name = spec;
        return d;
    }
    if (!fs::exists(path)) {
        std::string names;
        for (const std::string& n : bundled_dataset_names()) names += " " + n;
        fail("not_found", "dataset '" + spec + "' is neither a file nor a bundled dataset (bundled:" + names +
                              " fashion_mnist fashion_mnist_test)");
    }
    CsvDesc desc;
    desc.label_column = label_column;
    desc.label_optional = label_optional;
    if (regression) desc.task = Task::regression;
    return load_csv(read_text(path), path, desc);
}

std::string default_preset(const Dataset& d) { return d.schema.is_image() ? "cnn" : "mlp"; }

Json load_architecture(const std::string& spec, const Dataset& d) {
    Shape input = d.schema.is_image() ? Shape{d.schema.image_h, d.schema.image_w, d.schema.image_c}
                                      : Shape{d.features.dim(1)};
    const std::string s = spec.empty() ? default_preset(d) : spec;
    if (s == "linear" || s == "mlp" || s == "cnn") return architecture_preset(s, input, d.num_classes());
    std::string text = fs::exists(s) ? read_text(s) : s;
    try {
        return Json::parse(text);
    } catch (const std::exception& e) {
        fail("parse_error", "--arch: not a preset (linear, mlp, cnn), a JSON file or JSON text: " + std::string(e.what()));
    }
}

//-----------------------------------------------------------------------------
// [SECTION] Progress and tables
//-----------------------------------------------------------------------------

std::string clock_str(double seconds) {
    int s = static_cast<int>(seconds + 0.5);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d", s / 60, s % 60);
    return buf;
}

void progress_bar(const Trainer& t, double elapsed, bool tty) {
    int64_t done = t.steps_done(), total = t.total_steps();
    double frac = total ? static_cast<double>(done) / total : 1;
    int width = 28, fill = static_cast<int>(frac * width);
    std::string bar(fill, '=');
    if (fill < width) bar += '>' + std::string(width - fill - 1, ' ');
    double eta = done ? elapsed / done * (total - done) : 0;
    std::fprintf(stderr, "%sepoch %d/%d [%s] %3d%% loss %.4f ETA %s%s", tty ? "\r" : "",
                 std::min(t.epoch() + 1, t.desc().epochs), t.desc().epochs, bar.c_str(), static_cast<int>(frac * 100),
                 t.last_loss(), clock_str(eta).c_str(), tty ? "" : "\n");
    std::fflush(stderr);
}

struct Row {
    std::string name;
    EvalResult r;
};

// The classification report of a model on prepared data (core/metrics.h), with the data's class names when they
// match the model's outputs (else "0", "1", ...).
ClassificationReport classification_report(Model& model, const Dataset& d) {
    Tensor p = model.predict_proba(d.features);
    std::vector<std::string> names = d.schema.class_names;
    if (static_cast<int64_t>(names.size()) != p.dim(1)) {
        names.clear();
        for (int64_t c = 0; c < p.dim(1); ++c) names.push_back(std::to_string(c));
    }
    return evaluate_classification(d.labels, p, names);
}

Row evaluate_row(const std::string& name, Model& model, const Dataset& d) { return {name, evaluate(model, d)}; }

void print_metrics_table(const std::vector<Row>& rows) {
    std::printf("\n%-14s %8s %9s %9s %9s %9s %9s\n", "split", "samples", "loss", "accuracy", "precision", "recall",
                "f1 (macro)");
    for (const Row& r : rows) {
        std::printf("%-14s %8lld %9.4f", r.name.c_str(), static_cast<long long>(r.r.samples), r.r.loss);
        if (r.r.has_accuracy)
            std::printf(" %9.4f %9.4f %9.4f %9.4f\n", r.r.accuracy, r.r.macro_precision, r.r.macro_recall, r.r.macro_f1);
        else
            std::printf(" %9s %9s %9s %9s\n", "-", "-", "-", "-");
    }
}

//-----------------------------------------------------------------------------
// [SECTION] train
//-----------------------------------------------------------------------------

struct TrainArgs {
    std::string data, test_data, arch, out = "model.safetensors", label, kernels_name, resume;
    double test_split = 0.2;
    bool regression = false, no_standardize = false, quiet = false;
    TrainDesc train;
    std::string history_json;
    std::string register_name, parent, store, notes;  // --register: also store the model as a registry version
};

FileStore open_registry(const TrainArgs& a) { return FileStore(a.store.empty() ? default_store_dir() : a.store); }

// Full lineage for `--register`: the dataset's fingerprint and schema, every hyper-parameter, the history, the
// metrics of each split, and the parent version.
VersionDesc version_desc(const TrainArgs& a, const Trainer& trainer, const Dataset& all, const ModelArtifact& art,
                         const std::vector<Row>& rows, double seconds) {
    const TrainDesc& d = trainer.desc();
    VersionDesc v;
    v.model = a.register_name;
    v.model_description = "trained on " + all.name;
    v.artifact = art;
    v.dataset_name = all.name;
    v.dataset_fingerprint = dataset_fingerprint(all);
    v.dataset_schema = schema_to_json(all.schema);
    v.dataset_samples = all.size();
    v.parent = a.parent;
    v.hyperparameters = {{"optimizer", to_json(d.optimizer)}, {"epochs", d.epochs}, {"batch_size", d.batch_size},
                         {"seed", d.seed}, {"validation_split", shortest_decimal(d.validation_split)}, {"shuffle", !d.no_shuffle},
                         {"early_stopping", {{"patience", d.early_stopping.patience}, {"monitor", d.early_stopping.monitor},
                                             {"min_delta", shortest_decimal(d.early_stopping.min_delta)}}},
                         {"architecture", a.arch.empty() ? default_preset(all) : a.arch}, {"test_split", a.test_data.empty() ? a.test_split : 0.0},
                         {"test_data", a.test_data}, {"standardize", !a.no_standardize}, {"resumed_from", a.resume}};
    v.training_history = training_history_json(trainer);
    v.training_history["seconds"] = seconds;
    v.metrics = Json::object();
    for (const Row& row : rows) v.metrics[row.name] = row.r.to_json();
    v.notes = a.notes;
    v.created_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return v;
}

void cmd_train(TrainArgs& a) {
    if (!a.kernels_name.empty()) set_kernels(a.kernels_name);
    if (!a.register_name.empty()) {  // fail before training, not after
        check_name(a.register_name, "model");
        if (!a.parent.empty()) {
            FileStore s = open_registry(a);
            resolve(s, a.parent);
        }
    } else if (!a.parent.empty()) {
        fail("invalid_argument", "train: --parent needs --register NAME");
    }
    Dataset all = load_dataset(a.data, a.label, a.regression);
    Dataset train_set, test_set;
    if (!a.test_data.empty()) {
        train_set = all;
        test_set = load_dataset(a.test_data, a.label, a.regression);
    } else if (a.test_split > 0) {
        SplitDesc sd;
        sd.test = a.test_split;
        sd.seed = a.train.seed;
        Split sp = split_dataset(all, sd);
        train_set = std::move(sp.train);
        test_set = std::move(sp.test);
    } else {
        train_set = all;
    }
    PreprocessDesc pd;
    pd.no_standardize = a.no_standardize;
    Preprocessing prep = fit_preprocessing(train_set, pd);
    train_set = prep.apply(train_set);
    if (test_set.size()) test_set = prep.apply(test_set);

    Model model;
    ModelArtifact resumed;
    if (!a.resume.empty()) {
        resumed = load_model_arg(a.resume, a.store);
        model = Model::from_artifact(resumed);
    } else {
        model = Model::from_json(load_architecture(a.arch, train_set), a.train.seed);
    }
    Trainer trainer(model, train_set, a.train);
    if (!a.resume.empty()) trainer.resume(resumed);
    const TrainDesc& d = trainer.desc();
    std::printf("cairn train: %s, %zu training / %zu validation / %lld test samples, %lld parameters\n",
                all.name.c_str(), trainer.train_size(), trainer.validation_size(),
                static_cast<long long>(test_set.size()), static_cast<long long>(model.num_parameters()));
    std::printf("  %s, lr %g, %d epochs of %lld batches of %d, seed %llu, kernels %s\n", d.optimizer.type.c_str(),
                d.optimizer.lr, d.epochs, static_cast<long long>(trainer.batches_per_epoch()), d.batch_size,
                static_cast<unsigned long long>(d.seed), kernels().name);
    std::fflush(stdout);

    bool tty = isatty(fileno(stderr));
    auto start = std::chrono::steady_clock::now(), last = start;
    size_t reported = 0;
    int64_t first_step = trainer.steps_done();
    while (!trainer.done()) {
        trainer.step();
        auto now = std::chrono::steady_clock::now();
        if (!a.quiet && tty && !trainer.done() && now - last > std::chrono::milliseconds(200)) {
            double el = std::chrono::duration<double>(now - start).count();
            progress_bar(trainer, el * trainer.steps_done() / std::max<int64_t>(trainer.steps_done() - first_step, 1), tty);
            last = now;
        }
        if (trainer.history().size() > reported) {
            const EpochStats& s = trainer.history().back();
            if (!a.quiet) {
                std::fprintf(stderr, "%sepoch %d: loss %.4f", tty ? "\r\033[K" : "", s.epoch, s.loss);
                if (s.has_accuracy) std::fprintf(stderr, " acc %.4f", s.accuracy);
                if (s.has_validation) std::fprintf(stderr, " | val loss %.4f", s.val_loss);
                if (s.has_validation && s.has_accuracy) std::fprintf(stderr, " val acc %.4f", s.val_accuracy);
                std::fprintf(stderr, " | lr %.3g\n", s.lr);
            }
            reported = trainer.history().size();
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("stopped: %s after %zu epochs in %s%s\n", trainer.stop_reason().c_str(), trainer.history().size(),
                clock_str(seconds).c_str(),
                trainer.best_epoch() ? (" (best epoch " + std::to_string(trainer.best_epoch()) + " restored)").c_str() : "");

    std::vector<Row> rows = {evaluate_row("train", model, train_set)};
    if (test_set.size()) rows.push_back(evaluate_row("test", model, test_set));
    print_metrics_table(rows);

    ModelArtifact art = trainer.checkpoint();
    art.preprocessing = prep.to_json();
    save_model(art, a.out);
    std::printf("\nsaved %s\n", a.out.c_str());
    if (!a.history_json.empty()) {
        const std::string history = training_history_json(trainer).dump(1) + "\n";
        replace_file(a.history_json, history.data(), history.size());
    }
    if (!a.register_name.empty()) {
        FileStore s = open_registry(a);
        Ref r = register_version(s, version_desc(a, trainer, all, art, rows, seconds));
        std::printf("registered %s in the %s\n", r.str().c_str(), s.describe().c_str());
    }
}

//-----------------------------------------------------------------------------
// [SECTION] eval, predict
//-----------------------------------------------------------------------------

struct EvalArgs {
    std::string model, data, label, kernels_name, store;
    int64_t limit = 0;
    bool json = false;  // eval: the full report as JSON
};

Dataset prepared(const ModelArtifact& art, const EvalArgs& a) {
    bool regression = art.preprocessing.is_object() && art.preprocessing.value("task", "") == "regression";
    // Without --label, the label is the model's own label column, and a file without it is new data to predict.
    const std::string model_label = art.preprocessing.is_object() ? art.preprocessing.value("label_name", "") : "";
    Dataset d = a.label.empty() && !model_label.empty() ? load_dataset(a.data, model_label, regression, true)
                                                        : load_dataset(a.data, a.label, regression);
    if (a.limit > 0 && a.limit < d.size()) {
        std::vector<int64_t> idx(a.limit);
        for (int64_t i = 0; i < a.limit; ++i) idx[i] = i;
        d = subset(d, idx);
    }
    if (art.preprocessing.is_object()) d = Preprocessing::from_json(art.preprocessing).apply(d);
    return d;
}

// Per-class scores, the averages, log-loss and AUC, and the confusion matrix (up to 20 classes; --json has all).
void print_classification_report(const ClassificationReport& r) {
    size_t w = 9;
    for (const std::string& n : r.class_names) w = std::max(w, std::min<size_t>(n.size(), 24) + 1);
    std::printf("\n%-*s %9s %9s %9s %9s %9s\n", static_cast<int>(w), "class", "precision", "recall", "f1", "support", "auc");
    auto auc = [](double v) {  // undefined when the class has no samples, or nothing else
        char buf[32] = "-";
        if (std::isfinite(v)) std::snprintf(buf, sizeof buf, "%.4f", v);
        return std::string(buf);
    };
    for (size_t c = 0; c < r.per_class.size(); ++c) {
        const ClassScores& s = r.per_class[c];
        std::printf("%-*.24s %9.4f %9.4f %9.4f %9lld %9.9s\n", static_cast<int>(w), r.class_names[c].c_str(), s.precision,
                    s.recall, s.f1, static_cast<long long>(s.support), auc(r.roc[c].auc).c_str());
    }
    std::printf("%-*s %9.4f %9.4f %9.4f %9lld %9.9s\n", static_cast<int>(w), "macro", r.macro_precision, r.macro_recall,
                r.macro_f1, static_cast<long long>(r.n), auc(r.macro_auc).c_str());
    std::printf("%-*s %9.4f %9.4f %9.4f %9lld\n", static_cast<int>(w), "weighted", r.weighted_precision, r.weighted_recall,
                r.weighted_f1, static_cast<long long>(r.n));
    std::printf("\naccuracy %.4f, log-loss %.4f\n", r.accuracy, r.log_loss);
    const size_t k = r.confusion.size();
    if (k > 20) {
        std::printf("\n(%zu classes: the confusion matrix is in --json)\n", k);
        return;
    }
    std::printf("\nconfusion matrix (rows: true class, columns: predicted, in the order above)\n");
    for (size_t i = 0; i < k; ++i) {
        std::printf("%-*.24s", static_cast<int>(w), r.class_names[i].c_str());
        for (int64_t v : r.confusion[i]) std::printf(" %6lld", static_cast<long long>(v));
        std::printf("\n");
    }
}

void cmd_eval(const EvalArgs& a) {
    if (!a.kernels_name.empty()) set_kernels(a.kernels_name);
    ModelArtifact art = load_model_arg(a.model, a.store);
    Model model = Model::from_artifact(art);
    Dataset d = prepared(art, a);
    if (d.labels.empty() && !d.targets.defined())
        fail("invalid_argument", "eval: '" + a.data + "' has no labels (no column '" + art.preprocessing.value("label_name", "") +
                                     "'); `cairn predict` scores data without labels");
    const bool classify = model.loss() != LossKind::mse;
    if (a.json) {
        Json report = classify ? classification_report(model, d).to_json()
                               : evaluate_regression(d.targets, model.predict_proba(d.features)).to_json();
        report["loss"] = evaluate(model, d).loss;
        std::printf("%s\n", report.dump(1).c_str());
        return;
    }
    print_metrics_table({evaluate_row(d.name.empty() ? "data" : d.name, model, d)});
    if (classify) {
        print_classification_report(classification_report(model, d));
    } else {
        RegressionReport r = evaluate_regression(d.targets, model.predict_proba(d.features));
        std::printf("\nmse %.6g, mae %.6g, r2 %.4f\n", r.mse, r.mae, r.r2);
    }
}

void cmd_predict(const EvalArgs& a) {
    if (!a.kernels_name.empty()) set_kernels(a.kernels_name);
    ModelArtifact art = load_model_arg(a.model, a.store);
    Model model = Model::from_artifact(art);
    Dataset d = prepared(art, a);
    Tensor p = model.predict_proba(d.features);
    // The model's class names: data without labels has none of its own.
    std::vector<std::string> names = d.schema.class_names;
    if (art.preprocessing.is_object() && art.preprocessing.contains("class_names"))
        names = art.preprocessing["class_names"].get<std::vector<std::string>>();
    const bool classify = model.loss() != LossKind::mse, labeled = !d.labels.empty();
    std::printf("index,%s", classify ? (labeled ? "predicted,label" : "predicted") : "prediction");
    for (int64_t j = 0; j < p.dim(1); ++j)
        std::printf(",%s", classify ? ("p_" + (j < static_cast<int64_t>(names.size()) ? names[j] : std::to_string(j))).c_str()
                                    : ("y" + std::to_string(j)).c_str());
    std::printf("\n");
    for (int64_t i = 0; i < p.dim(0); ++i) {
        const float* r = p.data() + i * p.dim(1);
        if (classify) {
            int64_t best = std::max_element(r, r + p.dim(1)) - r;
            auto name = [&](int64_t c) { return c < static_cast<int64_t>(names.size()) ? names[c] : std::to_string(c); };
            std::printf("%lld,%s", static_cast<long long>(i), name(best).c_str());
            if (labeled) std::printf(",%s", name(d.labels[i]).c_str());
        } else {
            std::printf("%lld,%g", static_cast<long long>(i), r[0]);
        }
        for (int64_t j = 0; j < p.dim(1); ++j) std::printf(",%.6g", r[j]);
        std::printf("\n");
    }
}

//-----------------------------------------------------------------------------
// [SECTION] drift
//-----------------------------------------------------------------------------

struct DriftArgs {
    std::string reference, live, label;
    int bins = 0;
    double threshold = 0;
    bool json = false;
};

// Live data against a reference (usually the training data), feature by feature (core/metrics.h, Drift). The live
// file may lack the label column and order its columns differently: it is matched to the reference by name.
void cmd_drift(const DriftArgs& a) {
    Dataset ref = load_dataset(a.reference, a.label, false);
    const std::string label = a.label.empty() ? ref.schema.label_name : a.label;
    Dataset live = match_schema(label.empty() ? load_dataset(a.live, a.label, false) : load_dataset(a.live, label, false, true), ref.schema);
    DriftDesc desc;
    desc.bins = a.bins;
    desc.psi_threshold = a.threshold;
    DriftReport r = compute_drift(ref.features, live.features, ref.schema.feature_names, desc);
    if (a.json) {
        std::printf("%s\n", r.to_json().dump(1).c_str());
        return;
    }
    size_t w = 8;
    for (const FeatureDrift& f : r.features) w = std::max(w, std::min<size_t>(f.name.size(), 32) + 1);
    std::printf("%lld reference and %lld live samples\n\n%-*s %8s %8s %12s %12s\n", static_cast<long long>(r.reference_n),
                static_cast<long long>(r.live_n), static_cast<int>(w), "feature", "psi", "ks", "ref. mean", "live mean");
    for (const FeatureDrift& f : r.features)
        std::printf("%-*.32s %8.4f %8.4f %12.5g %12.5g%s\n", static_cast<int>(w), f.name.c_str(), f.psi, f.ks,
                    f.reference_mean, f.live_mean, f.drifted ? "  drifted" : "");
    std::printf("\n%lld of %zu features drifted (PSI > %g; below 0.1 is stable, 0.1-0.25 a moderate shift)\n",
                static_cast<long long>(r.drifted), r.features.size(), a.threshold > 0 ? a.threshold : 0.25);
}

//-----------------------------------------------------------------------------
// [SECTION] Registration
//-----------------------------------------------------------------------------

const bool registered = add_commands(100, [](CLI::App& app) {
    static TrainArgs t;
    auto* train = app.add_subcommand("train", "Train a model on a dataset (CSV, IDX folder or bundled name)");
    train->add_option("data", t.data, "Dataset: iris, digits, breast_cancer, fashion_mnist, a .csv file, an IDX folder or an image folder (one sub-folder per class)")
        ->required();
    train->add_option("--arch", t.arch, "Architecture: preset (linear, mlp, cnn), JSON file or JSON text "
                                        "(default: cnn for images, mlp otherwise)");
    train->add_option("--optimizer", t.train.optimizer.type, "sgd, momentum, adam, adamw")->capture_default_str();
    train->add_option("--lr", t.train.optimizer.lr, "Learning rate (default 1e-3 adam, 1e-2 sgd)")->check(positive());
    train->add_option("--momentum", t.train.optimizer.momentum, "Momentum (type momentum; default 0.9)");
    train->add_flag("--nesterov", t.train.optimizer.nesterov, "Nesterov momentum");
    train->add_option("--weight-decay", t.train.optimizer.weight_decay, "L2 (decoupled for adamw)")->check(non_negative());
    train->add_option("--clip-norm", t.train.optimizer.clip_norm, "Clip the global gradient norm (0 = off)")->check(non_negative());
    train->add_option("--schedule", t.train.optimizer.schedule.type, "constant, step, cosine");
    train->add_option("--warmup", t.train.optimizer.schedule.warmup_steps, "Warm-up steps")->check(non_negative());
    train->add_option("--step-size", t.train.optimizer.schedule.step_size, "Steps between lr decays (step schedule)")->check(positive());
    train->add_option("--epochs", t.train.epochs, "Epochs (default 10)")->check(positive());
    train->add_option("--batch", t.train.batch_size, "Batch size (default 32)")->check(positive());
    train->add_option("--seed", t.train.seed, "Seed for initialization, splits and shuffling")->capture_default_str();
    train->add_option("--val-split", t.train.validation_split, "Validation fraction of the training part")->check(fraction_up_to(0.9));
    train->add_option("--patience", t.train.early_stopping.patience, "Early stopping patience in epochs (0 = off)")->check(non_negative());
    train->add_option("--monitor", t.train.early_stopping.monitor, "val_loss or val_accuracy");
    train->add_option("--test-split", t.test_split, "Held-out test fraction when no --test-data")->capture_default_str()->check(fraction_up_to(0.9));
    train->add_option("--test-data", t.test_data, "Separate test dataset (e.g. fashion_mnist_test)");
    train->add_option("--label", t.label, "CSV label column (default: the last)");
    train->add_flag("--regression", t.regression, "CSV label is a numeric target (use an architecture with \"loss\": \"mse\")");
    train->add_flag("--no-standardize", t.no_standardize, "Keep raw feature values");
    train->add_option("--resume", t.resume, "Continue from a saved model: a file or a registry version (NAME/3, NAME@production), same data and options");
    train->add_option("-o,--out", t.out, "Model file to write")->capture_default_str();
    train->add_option("--history", t.history_json, "Write the per-epoch history as JSON");
    train->add_option("--register", t.register_name, "Also register the model as the next version of NAME in the registry");
    train->add_option("--parent", t.parent, "Lineage: the version this one derives from (NAME/3, NAME@production)");
    train->add_option("--notes", t.notes, "Notes stored with the registered version");
    train->add_option("--store", t.store, "Registry folder (default: $CAIRN_STORE, $XDG_DATA_HOME/cairn or ~/.local/share/cairn)");
    train->add_option("--kernels", t.kernels_name, "Kernel backend (reference, simd, xnnpack)");
    train->add_flag("-q,--quiet", t.quiet, "No progress output");
    train->callback([] { cmd_train(t); });

    // eval and predict take the same arguments: a model (file or registry version) and a dataset.
    auto model_on_data = [&app](const char* name, const char* help, EvalArgs& args, void (*run)(const EvalArgs&)) -> CLI::App* {
        auto* cmd = app.add_subcommand(name, help);
        cmd->add_option("model", args.model, "Model: a file written by train -o, or a registry version (NAME/3, NAME@production, NAME@latest)")->required();
        cmd->add_option("data", args.data, "Dataset (as for train)")->required();
        cmd->add_option("--label", args.label, "CSV label column");
        cmd->add_option("--limit", args.limit, "Only the first N samples")->check(positive());
        cmd->add_option("--kernels", args.kernels_name, "Kernel backend");
        cmd->add_option("--store", args.store, "Registry folder (default: $CAIRN_STORE, $XDG_DATA_HOME/cairn or ~/.local/share/cairn)");
        cmd->callback([&args, run] { run(args); });
        return cmd;
    };
    static EvalArgs e, p;
    model_on_data("eval", "Evaluate a saved model on a dataset: loss, accuracy, per-class scores, AUC, confusion matrix", e, cmd_eval)
        ->add_flag("--json", e.json, "The full report as JSON (classification: with ROC curves; regression: mse, mae, r2)");
    model_on_data("predict", "Print a saved model's predictions for a dataset as CSV", p, cmd_predict);

    static DriftArgs dr;
    auto* drift = app.add_subcommand("drift", "Compare live data with a reference, feature by feature (PSI, KS)");
    drift->add_option("reference", dr.reference, "Reference dataset, usually the training data (as for train)")->required();
    drift->add_option("live", dr.live, "Live data: a CSV with the reference's columns, the label column optional")->required();
    drift->add_option("--label", dr.label, "CSV label column (default: the reference's last)");
    drift->add_option("--bins", dr.bins, "Quantile bins for PSI (default 10)")->check(number_check(2, 1000, false, "2 to 1000 bins"));
    drift->add_option("--threshold", dr.threshold, "PSI above which a feature counts as drifted (default 0.25)")->check(positive());
    drift->add_flag("--json", dr.json, "The report as JSON");
    drift->callback([] { cmd_drift(dr); });
});

}  // namespace
}  // namespace cairn::cli

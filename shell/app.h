// The dashboard's app state: everything a panel draws, in plain data, so a test can fill it and render any panel.
//
// Panels (shell/dashboard.cpp) only read this model and record user intent in it; actions that take time
// (training, integrity checks, export) are Jobs advanced a slice per frame by shell/engine.cpp, so the UI never
// blocks. The engine is the one place that talks to the core (training, metrics, registry over a Store).
//
// Index of this file
// [SECTION] Panels
// [SECTION] Data
// [SECTION] Train
// [SECTION] Registry
// [SECTION] Evaluate, Compare, Playground, Storage
// [SECTION] App
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn { struct Dataset; }
namespace cairn::shell {

//-----------------------------------------------------------------------------
// [SECTION] Panels
//-----------------------------------------------------------------------------

enum class Panel : int { data, train, registry, evaluate, compare, playground, storage, count };
const char* panel_name(Panel p);                           // "Data", "Train", ...
std::optional<Panel> panel_from_name(std::string_view s);  // case-insensitive; nullopt when unknown

// A long action: shows a progress bar with a label (and an ETA when it knows its rate).
struct Job {
    std::string label;         // "Training", "Checking integrity", "Exporting"
    float progress = 0;        // 0..1
    double elapsed_s = 0;      // seconds spent while running
    bool running = false;
    double eta_s() const { return progress > 0.001f ? elapsed_s * (1.0 - progress) / progress : -1.0; }
};

//-----------------------------------------------------------------------------
// [SECTION] Data
//-----------------------------------------------------------------------------

struct DatasetView {
    std::string name;                          // "iris"
    std::string description;                   // one line
    int64_t rows = 0;
    std::vector<std::string> columns;          // feature names (tabular)
    std::vector<std::vector<float>> preview;   // first rows: features then label index
    std::vector<std::string> class_names;
    std::vector<int64_t> class_counts;         // one per class
    int image_h = 0, image_w = 0;              // images: thumbnails are image_h x image_w grey bytes
    std::vector<std::vector<uint8_t>> thumbnails;
    std::vector<int> thumbnail_labels;
};

struct DataState {
    std::vector<DatasetView> datasets;  // the bundled ones, then those the user opened
    int selected = 0;
    std::map<std::string, std::shared_ptr<const Dataset>> opened;  // the user's datasets by name (the core's data)
    // The page's file picker for a CSV file (its text reaches data_open_csv); empty natively, where
    // `cairn dashboard --data FILE.csv` opens them.
    std::function<void()> open_csv;
    std::string message;  // the last open's outcome, e.g. the line and column a bad file failed at
};

//-----------------------------------------------------------------------------
// [SECTION] Train
//-----------------------------------------------------------------------------

enum class LayerKind : int { dense, conv2d, maxpool, dropout, flatten, count };
enum class Activation : int { none, relu, tanh, sigmoid, count };
enum class Optimizer : int { sgd, momentum, adam, count };
const char* layer_kind_name(LayerKind k);
const char* activation_name(Activation a);
const char* optimizer_name(Optimizer o);

struct LayerSpec {
    LayerKind kind = LayerKind::dense;
    int size = 32;          // dense: units; conv2d: filters; maxpool: window; dropout: percent
    int kernel = 3;         // conv2d only
    Activation activation = Activation::relu;
};

struct TrainConfig {
    int dataset = 0;  // index into DataState::datasets
    std::vector<LayerSpec> layers;
    Optimizer optimizer = Optimizer::adam;
    float learning_rate = 0.01f, momentum = 0.9f, weight_decay = 0.0f;
    int batch_size = 32, epochs = 20;
    int seed = 42;
    bool early_stopping = true;
};

enum class RunState : int { idle, running, paused, done };

struct Curves {  // one value per epoch
    std::vector<float> train_loss, val_loss, train_acc, val_acc;
    int best_epoch = 0;  // 1-based epoch with the lowest validation loss (early stopping); 0: not tracked
};

struct TrainSession;  // the core's model and Trainer for the current run (shell/engine.cpp)

struct TrainState {
    TrainConfig config;
    std::shared_ptr<TrainSession> session;  // null: no core run (the sample curves are shown)
    RunState state = RunState::idle;
    int epoch = 0, step = 0, steps_per_epoch = 0;
    int kept_epoch = 0;  // when done: the epoch whose weights early stopping put back (1-based); 0: the last step's
    int batches_per_frame = 4;
    Curves curves;
    Job job;
    std::string message;  // last status or error, shown under the controls
};

//-----------------------------------------------------------------------------
// [SECTION] Registry
//-----------------------------------------------------------------------------

struct VersionInfo {
    int number = 0;                           // v1, v2, ...
    std::string created;                      // ISO time
    int64_t size_bytes = 0;
    std::string hash;                         // hex SHA-256 of the manifest
    int parent = 0;                           // 0: none (trained from scratch)
    std::map<std::string, float> metrics;     // "accuracy", "f1", "loss"
    std::map<std::string, std::string> hyper; // "optimizer", "lr", "layers", ...
    std::vector<std::string> aliases;         // "production", "staging"
    std::vector<std::string> tags;
    std::string notes;
    bool archived = false;
    std::string damage;                       // why it cannot be loaded (a blob failed its SHA-256, ...); empty if intact
    bool loading = false;                     // its values are still on their way from the page's store
    Curves curves;
    std::vector<std::string> layer_names;     // per-layer parameters, for weight distances
    std::vector<std::vector<float>> layer_weights;
};

struct AliasEvent {
    std::string alias;
    int version = 0;      // 0: alias removed
    std::string time;
    std::string action;   // "promote", "rollback"
};

struct ModelInfo {
    std::string name;
    std::vector<VersionInfo> versions;
    std::vector<AliasEvent> alias_history;  // append-only, oldest first
    const VersionInfo* find(int number) const;
    VersionInfo* find(int number);
    int alias_target(std::string_view alias) const;  // 0 when unset
};

}  // namespace cairn::shell
namespace cairn { class Store; struct Plan; }
namespace cairn::shell {

using Planner = std::function<Plan(const Store&)>;

struct RegistryState {
    std::shared_ptr<Store> store;  // the registry's store (file store natively, IndexedDB mirror in the page); null: samples
    // Called after each change the engine committed to store, with the planner that made it and its result (JSON).
    // The page keeps the planners until IndexedDB has the batches, to plan again when another tab wrote first.
    // Empty natively.
    std::function<void(const Planner&, const std::string& result)> on_commit;
    std::vector<ModelInfo> models;
    int selected_model = 0;
    int selected_version = 0;  // version number; 0: none
    // Confirmation modal for promote / rollback / archive / unarchive / delete; "annotate" applies without one.
    struct Pending { std::string action, alias; int version = 0; } pending;
    bool confirm_open = false;
    // Notes and tags being edited for edit_version; saved as an annotation (core/registry.h plan_annotate).
    int edit_version = 0;
    std::string edit_notes, edit_tags;  // tags comma separated, as typed
    std::string message;
};

// Tags as one comma-separated line for editing; split trims spaces and drops empty entries.
std::string join_tags(const std::vector<std::string>& tags);
std::vector<std::string> split_tags(std::string_view line);

//-----------------------------------------------------------------------------
// [SECTION] Evaluate, Compare, Playground, Storage
//-----------------------------------------------------------------------------

struct RocCurve { std::vector<float> fpr, tpr; float auc = 0; };

struct EvalState {
    std::string model; int version = 0;
    // An evaluation asked for while the store was still loading the version's values (the page's store loads
    // large values on first read): it runs, and the panel opens, once they have arrived (evaluate_waiting).
    std::string waiting_model; int waiting_version = 0;
    std::string scope;  // which samples, e.g. "the held-out fifth"
    std::vector<std::string> class_names;
    std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
    std::vector<RocCurve> roc;                     // one per class (one-vs-rest)
};

struct CompareState {
    int a = 0, b = 0;  // version numbers in the selected model
};

struct LoadedModel;  // a registry version rebuilt for inference (shell/engine.cpp)

struct PlaygroundState {
    int size = 8;                    // canvas is size x size, values 0..1
    std::vector<float> canvas;
    std::vector<std::string> class_names;
    std::vector<float> probs;        // live class probabilities
    std::vector<std::vector<float>> templates;  // 8x8 class means (0..1) of the baseline; empty: glyph templates
    std::shared_ptr<LoadedModel> model;          // the registry version scoring the canvas, when one fits it
    std::string model_ref;                       // "digits-mlp/3"; "" = the baseline
    std::string source;                          // what produced probs, shown in the panel
    bool use_production = true;
    int version = 0;                 // when !use_production
    float brush = 1.0f;
};

struct IntegrityRow { std::string model; int version = 0; std::string status; };  // "ok", "corrupt", "pending"

struct StorageState {
    std::string backend;             // "file store at ...", "memory store"
    int64_t used_bytes = 0, quota_bytes = 0;
    std::vector<IntegrityRow> integrity;
    Job check, transfer;
    std::string export_path = "cairn-export.zip";
    std::string message;
    // The page: export hands the package to the browser (a download named export_path) and import asks it for a
    // file, whose bytes come back through storage_import_bytes (shell/engine.h). Empty natively: files are used.
    std::function<void(const std::vector<uint8_t>& bytes, const std::string& name)> save_file;
    std::function<void()> open_file;
};

//-----------------------------------------------------------------------------
// [SECTION] App
//-----------------------------------------------------------------------------

struct App {
    Panel panel = Panel::data;
    DataState data;
    TrainState train;
    RegistryState registry;
    EvalState eval;
    CompareState compare;
    PlaygroundState playground;
    StorageState storage;
    float ui_scale = 1.0f;      // device pixels per UI unit (devicePixelRatio / monitor content scale)
    bool show_help = false;
    // Keys pressed since the last frame (GLFW codes; digits and letters are ASCII), without Ctrl/Alt/Super. The
    // platform latches them from key events: ImGui 1.86 only sees keys held at frame time, so a quick tap between
    // two slow frames (software WebGL) would otherwise be lost.
    std::vector<int> pressed_keys;
    // Where things were drawn last frame, in framebuffer pixels: tests probe these regions.
    struct Rect { float x0 = 0, y0 = 0, x1 = 0, y1 = 0; };
    std::map<std::string, Rect> probes;
};

// Sample contents so every panel has something to show before the engine is connected (and for tests).
App make_sample_app();
// A digit drawn from a 5x7 glyph into size x size values in 0..1 (light noise from seed).
std::vector<float> sample_digit(int digit, int size, uint64_t seed);

}  // namespace cairn::shell

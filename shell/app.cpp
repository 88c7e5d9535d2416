// App-state helpers and the sample contents shown before the engine is connected.
//
// Index of this file
// [SECTION] Names
// [SECTION] Registry lookups
// [SECTION] Sample data
#include "shell/app.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "core/random.h"

namespace cairn::shell {

//-----------------------------------------------------------------------------
// [SECTION] Names
//-----------------------------------------------------------------------------

const char* panel_name(Panel p) {
    static const char* names[] = {"Data", "Train", "Registry", "Evaluate", "Compare", "Playground", "Storage"};
    int i = static_cast<int>(p);
    return i >= 0 && i < static_cast<int>(Panel::count) ? names[i] : "?";
}

std::optional<Panel> panel_from_name(std::string_view s) {
    for (int i = 0; i < static_cast<int>(Panel::count); ++i) {
        std::string_view n = panel_name(static_cast<Panel>(i));
        if (n.size() == s.size() &&
            std::equal(n.begin(), n.end(), s.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
            return static_cast<Panel>(i);
    }
    return std::nullopt;
}

const char* layer_kind_name(LayerKind k) {
    static const char* n[] = {"dense", "conv2d", "maxpool", "dropout", "flatten"};
    return n[static_cast<int>(k)];
}
const char* activation_name(Activation a) {
    static const char* n[] = {"none", "relu", "tanh", "sigmoid"};
    return n[static_cast<int>(a)];
}
const char* optimizer_name(Optimizer o) {
    static const char* n[] = {"sgd", "momentum", "adam"};
    return n[static_cast<int>(o)];
}

//-----------------------------------------------------------------------------
// [SECTION] Registry lookups
//-----------------------------------------------------------------------------

const VersionInfo* ModelInfo::find(int number) const {
    for (auto& v : versions)
        if (v.number == number) return &v;
    return nullptr;
}
VersionInfo* ModelInfo::find(int number) {
    return const_cast<VersionInfo*>(static_cast<const ModelInfo*>(this)->find(number));
}
std::string join_tags(const std::vector<std::string>& tags) {
    std::string out;
    for (auto& t : tags) out += (out.empty() ? "" : ", ") + t;
    return out;
}

std::vector<std::string> split_tags(std::string_view line) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= line.size()) {
        size_t end = std::min(line.find(',', pos), line.size());
        std::string_view t = line.substr(pos, end - pos);
        while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
        if (!t.empty()) out.emplace_back(t);
        pos = end + 1;
    }
    return out;
}

int ModelInfo::alias_target(std::string_view alias) const {
    for (auto& v : versions)
        for (auto& a : v.aliases)
            if (a == alias) return v.number;
    return 0;
}

//-----------------------------------------------------------------------------
// [SECTION] Sample data
//-----------------------------------------------------------------------------

namespace {

// 5x7 bitmaps of the digits, one string per row ('#' = ink): the sample 8x8 digits are drawn from these.
const char* kDigitFont[10][7] = {
    {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "}, {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "},
    {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"}, {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "},
    {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "}, {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "},
    {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "}, {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "},
    {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "}, {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "},
};

}  // namespace

std::vector<float> sample_digit(int digit, int size, uint64_t seed) {
    // Bilinear resample of the 5x7 glyph into a size x size box with a 1-pixel margin, plus a little noise.
    std::vector<float> img(static_cast<size_t>(size) * size, 0.0f);
    Rng rng(seed);
    float m = size / 8.0f, w = size - 2 * m, h = size - 2 * m;
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
            float gx = (x + 0.5f - m) / w * 5.0f - 0.5f, gy = (y + 0.5f - m) / h * 7.0f - 0.5f;
            float acc = 0;
            for (int dy = 0; dy < 2; ++dy)
                for (int dx = 0; dx < 2; ++dx) {
                    int cx = static_cast<int>(std::floor(gx)) + dx, cy = static_cast<int>(std::floor(gy)) + dy;
                    if (cx < 0 || cx >= 5 || cy < 0 || cy >= 7) continue;
                    float wx = 1 - std::fabs(gx - cx), wy = 1 - std::fabs(gy - cy);
                    if (kDigitFont[digit][cy][cx] == '#') acc += std::max(0.0f, wx) * std::max(0.0f, wy);
                }
            float v = std::min(1.0f, acc * 1.3f) + 0.08f * rng.normal();
            img[static_cast<size_t>(y) * size + x] = std::clamp(v, 0.0f, 1.0f);
        }
    return img;
}

namespace {

Curves sample_curves(int epochs, float final_acc, uint64_t seed) {
    Rng rng(seed);
    Curves c;
    for (int e = 0; e < epochs; ++e) {
        float t = 1.0f - std::exp(-0.25f * (e + 1));
        float noise = 0.01f * rng.normal();
        c.train_acc.push_back(std::min(0.999f, 0.12f + (final_acc + 0.02f - 0.12f) * t + noise));
        c.val_acc.push_back(std::min(0.999f, 0.12f + (final_acc - 0.12f) * t + 0.7f * noise));
        c.train_loss.push_back(2.3f * std::exp(-0.3f * (e + 1)) + 0.05f + 0.02f * std::fabs(rng.normal()));
        c.val_loss.push_back(2.3f * std::exp(-0.27f * (e + 1)) + 0.09f + 0.02f * std::fabs(rng.normal()));
    }
    return c;
}

VersionInfo sample_version(int number, int parent, const char* created, float acc, const char* opt, float lr,
                           const char* layers, uint64_t seed) {
    VersionInfo v;
    v.number = number;
    v.parent = parent;
    v.created = created;
    Rng rng(seed);
    static const char* hex = "0123456789abcdef";
    for (int i = 0; i < 64; ++i) v.hash += hex[rng.below(16)];
    v.metrics = {{"accuracy", acc}, {"macro_f1", acc - 0.006f}, {"loss", 0.9f - 0.8f * acc}};
    char lr_s[32];
    std::snprintf(lr_s, sizeof lr_s, "%g", lr);
    v.hyper = {{"optimizer", opt}, {"learning_rate", lr_s}, {"layers", layers}, {"batch_size", "32"},
               {"seed", std::to_string(seed)}};
    v.curves = sample_curves(20, acc, seed);
    v.layer_names = {"0.dense.weight", "0.dense.bias", "2.dense.weight", "2.dense.bias"};
    int sizes[] = {64 * 32, 32, 32 * 10, 10};
    Rng wr(1000);  // shared init: versions differ by training drift only
    for (int l = 0; l < 4; ++l) {
        std::vector<float> w(sizes[l]);
        for (auto& x : w) x = 0.1f * wr.normal() + 0.02f * static_cast<float>(number) * rng.normal();
        v.layer_weights.push_back(std::move(w));
        v.size_bytes += sizes[l] * 4;
    }
    v.size_bytes += 1800;  // manifest
    return v;
}

}  // namespace

App make_sample_app() {
    App app;

    // Data
    {
        DatasetView iris;
        iris.name = "iris";
        iris.description = "Fisher's iris flowers: 4 measurements, 3 species";
        iris.rows = 150;
        iris.columns = {"sepal_length", "sepal_width", "petal_length", "petal_width"};
        iris.preview = {{5.1f, 3.5f, 1.4f, 0.2f, 0}, {7.0f, 3.2f, 4.7f, 1.4f, 1}, {6.3f, 3.3f, 6.0f, 2.5f, 2},
                        {4.9f, 3.0f, 1.4f, 0.2f, 0}, {6.4f, 3.2f, 4.5f, 1.5f, 1}, {5.8f, 2.7f, 5.1f, 1.9f, 2},
                        {4.7f, 3.2f, 1.3f, 0.2f, 0}, {6.9f, 3.1f, 4.9f, 1.5f, 1}};
        iris.class_names = {"setosa", "versicolor", "virginica"};
        iris.class_counts = {50, 50, 50};
        app.data.datasets.push_back(iris);

        DatasetView digits;
        digits.name = "digits";
        digits.description = "8x8 handwritten digits (UCI), grey levels 0..16";
        digits.rows = 1797;
        for (int i = 0; i < 64; ++i) digits.columns.push_back("pixel_" + std::to_string(i));
        digits.class_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
        digits.class_counts = {178, 182, 177, 183, 181, 182, 181, 179, 174, 180};
        digits.image_h = digits.image_w = 8;
        for (int i = 0; i < 30; ++i) {
            auto img = sample_digit(i % 10, 8, 7 + i);
            std::vector<uint8_t> bytes(img.size());
            for (size_t k = 0; k < img.size(); ++k) bytes[k] = static_cast<uint8_t>(img[k] * 255.0f + 0.5f);
            digits.thumbnails.push_back(std::move(bytes));
            digits.thumbnail_labels.push_back(i % 10);
            if (i < 8) {
                std::vector<float> row;
                for (float x : img) row.push_back(std::round(x * 16.0f));
                row.push_back(static_cast<float>(i % 10));
                digits.preview.push_back(row);
            }
        }
        app.data.datasets.push_back(digits);

        DatasetView bc;
        bc.name = "breast_cancer";
        bc.description = "Wisconsin diagnostic breast cancer: 30 cell-nucleus features";
        bc.rows = 569;
        bc.columns = {"mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness"};
        bc.preview = {{17.99f, 10.38f, 122.8f, 1001.0f, 0.1184f, 0}, {13.54f, 14.36f, 87.46f, 566.3f, 0.09779f, 1},
                      {20.57f, 17.77f, 132.9f, 1326.0f, 0.08474f, 0}, {13.08f, 15.71f, 85.63f, 520.0f, 0.1075f, 1}};
        bc.class_names = {"malignant", "benign"};
        bc.class_counts = {212, 357};
        app.data.datasets.push_back(bc);
        app.data.selected = 1;
    }

    // Train
    {
        auto& c = app.train.config;
        c.dataset = 1;
        c.layers = {{LayerKind::dense, 32, 3, Activation::relu}, {LayerKind::dropout, 10, 3, Activation::none},
                    {LayerKind::dense, 10, 3, Activation::none}};
        app.train.curves = sample_curves(12, 0.95f, 3);
        app.train.epoch = 12;
        app.train.steps_per_epoch = 45;
        app.train.state = RunState::paused;
        app.train.job = {"Training", 12.0f / 20.0f, 9.0, false};
    }

    // Registry
    {
        ModelInfo m;
        m.name = "digits-mlp";
        m.versions.push_back(sample_version(1, 0, "2026-11-20 09:12", 0.912f, "sgd", 0.1f, "64-32-10", 1));
        m.versions.push_back(sample_version(2, 1, "2026-11-21 14:40", 0.947f, "adam", 0.01f, "64-32-10", 2));
        m.versions.push_back(sample_version(3, 2, "2026-11-23 10:05", 0.968f, "adam", 0.005f, "64-64-10", 3));
        m.versions.push_back(sample_version(4, 2, "2026-11-25 17:31", 0.958f, "momentum", 0.05f, "64-32-10", 4));
        m.versions[0].archived = true;
        m.versions[2].aliases = {"production"};
        m.versions[3].aliases = {"staging"};
        m.versions[2].tags = {"baseline", "reviewed"};
        m.versions[2].notes = "Wider hidden layer; fine-tuned from v2.";
        m.alias_history = {{"production", 1, "2026-11-20 09:30", "promote"}, {"production", 2, "2026-11-21 15:02", "promote"},
                           {"production", 3, "2026-11-23 10:20", "promote"}, {"staging", 4, "2026-11-25 17:40", "promote"}};
        app.registry.models.push_back(std::move(m));

        ModelInfo iris;
        iris.name = "iris-mlp";
        iris.versions.push_back(sample_version(1, 0, "2026-11-22 08:00", 0.953f, "adam", 0.01f, "4-16-3", 11));
        iris.versions.push_back(sample_version(2, 1, "2026-11-24 12:30", 0.973f, "adam", 0.01f, "4-16-3", 12));
        iris.versions[1].aliases = {"production"};
        iris.alias_history = {{"production", 1, "2026-11-22 08:10", "promote"}, {"production", 2, "2026-11-24 12:45", "promote"}};
        app.registry.models.push_back(std::move(iris));
        app.registry.selected_version = 3;
    }

    // Evaluate: a confusion matrix with most mass on the diagonal, ROC curves of matching quality.
    {
        auto& e = app.eval;
        e.model = "digits-mlp";
        e.version = 3;
        e.class_names = app.data.datasets[1].class_names;
        Rng rng(5);
        int n = 10;
        e.confusion.assign(n, std::vector<int64_t>(n, 0));
        for (int t = 0; t < n; ++t) {
            int64_t total = 36;
            int64_t wrong = (t == 8 || t == 3) ? 4 : static_cast<int64_t>(rng.below(3));
            e.confusion[t][t] = total - wrong;
            for (int k = 0; k < wrong; ++k) e.confusion[t][(t + 1 + rng.below(n - 1)) % n] += 1;
        }
        for (int c = 0; c < n; ++c) {
            RocCurve r;
            float k = 6.0f + 3.0f * rng.uniform();
            for (int i = 0; i <= 40; ++i) {
                float f = i / 40.0f;
                r.fpr.push_back(f);
                r.tpr.push_back(1.0f - std::pow(1.0f - f, k));
            }
            r.auc = 1.0f - 1.0f / (k + 1.0f);
            e.roc.push_back(std::move(r));
        }
    }

    app.compare = {2, 3};

    // Playground: a sample "3" already drawn.
    {
        auto& p = app.playground;
        p.size = 8;
        p.canvas = sample_digit(3, 8, 99);
        p.class_names = app.data.datasets[1].class_names;
    }

    // Storage
    {
        auto& s = app.storage;
        s.backend = "memory store";
        for (auto& m : app.registry.models)
            for (auto& v : m.versions) {
                s.used_bytes += v.size_bytes;
                s.integrity.push_back({m.name, v.number, "not checked"});
            }
        s.quota_bytes = 200 * 1024;
        s.check.label = "Integrity check";
    }
    return app;
}

}  // namespace cairn::shell

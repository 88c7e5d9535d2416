// Dashboard screenshot tests: every panel is rendered headless (EGL + GLES3) at 1280x800 and its pixels are
// checked against what the app state says should be there: titles have text, heatmap cells follow the colour
// ramp for their counts, the quota bar's fill matches usage, curves and class bars use their colours, the canvas
// shows the drawing. Each check is also run on an image where it must fail (blank frame, wrong state).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include "core/random.h"
#include "core/registry.h"
#include "core/store.h"
#include "tests/core/test_registry_util.h"
#include "shell/app.h"
#include "shell/dashboard.h"
#include "shell/engine.h"
#include "shell/platform.h"
#include <imgui.h>  // imconfig_cairn.h: the ImGui assert counter

namespace cairn::shell {
namespace {

using RGB = std::array<uint8_t, 3>;

Image render(App& app, Panel panel, float scale = 1.0f) {
    app.panel = panel;
    int before = imgui_assert_count();
    Image img = render_offscreen(app, {1280, 800, scale, 0, nullptr});
    EXPECT_EQ(imgui_assert_count(), before) << "ImGui reported API misuse while drawing " << panel_name(panel);
    // CAIRN_DASHBOARD_DUMP=DIR keeps every rendered frame, to look at what the tests saw.
    if (const char* dir = std::getenv("CAIRN_DASHBOARD_DUMP")) {
        static int n = 0;
        char name[64];
        std::snprintf(name, sizeof name, "/%03d_%s_x%g.png", n++, panel_name(panel), scale);
        write_png(img, dir + std::string(name));
    }
    return img;
}

App::Rect probe(const App& app, const std::string& name) {
    auto it = app.probes.find(name);
    EXPECT_NE(it, app.probes.end()) << "nothing recorded for probe '" << name << "'";
    return it == app.probes.end() ? App::Rect{} : it->second;
}

bool near(const uint8_t* px, RGB c, int tol) {
    return std::abs(px[0] - c[0]) <= tol && std::abs(px[1] - c[1]) <= tol && std::abs(px[2] - c[2]) <= tol;
}

// Pixels in the rect whose colour is within tol of c.
int count_colour(const Image& img, App::Rect r, RGB c, int tol = 6) {
    int n = 0;
    for (int y = std::max(0, int(r.y0)); y < std::min(img.height, int(r.y1)); ++y)
        for (int x = std::max(0, int(r.x0)); x < std::min(img.width, int(r.x1)); ++x) n += near(img.at(x, y), c, tol);
    return n;
}

// "Something is drawn here": the rect holds several distinct colours, and enough pixels differ from its most
// common colour (its background).
bool has_content(const Image& img, App::Rect r, int min_pixels) {
    std::map<uint32_t, int> hist;
    for (int y = std::max(0, int(r.y0)); y < std::min(img.height, int(r.y1)); ++y)
        for (int x = std::max(0, int(r.x0)); x < std::min(img.width, int(r.x1)); ++x) {
            const uint8_t* p = img.at(x, y);
            ++hist[uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]];
        }
    if (hist.size() < 3) return false;
    int total = 0, top = 0;
    for (auto& [k, n] : hist) total += n, top = std::max(top, n);
    return total - top >= min_pixels;
}

App::Rect whole(const Image& img) { return {0, 0, float(img.width), float(img.height)}; }

TEST(Dashboard, PanelNamesRoundTrip) {
    for (int i = 0; i < int(Panel::count); ++i) {
        auto p = static_cast<Panel>(i);
        EXPECT_EQ(panel_from_name(panel_name(p)), p);
    }
    EXPECT_EQ(panel_from_name("EVALUATE"), Panel::evaluate);
    EXPECT_FALSE(panel_from_name("settings").has_value());
}

TEST(Dashboard, BlankFrameFailsTheContentCheck) {
    Image blank;
    blank.width = 320, blank.height = 200;
    blank.rgba.assign(size_t(320) * 200 * 4, 0);
    auto bg = background_rgb();
    for (size_t i = 0; i < blank.rgba.size(); i += 4) blank.rgba[i] = bg[0], blank.rgba[i + 1] = bg[1], blank.rgba[i + 2] = bg[2];
    EXPECT_FALSE(has_content(blank, whole(blank), 10));
    blank.rgba[4 * 1000] = 255, blank.rgba[4 * 2000 + 1] = 255;  // two stray pixels are not content either
    EXPECT_FALSE(has_content(blank, whole(blank), 10));
}

TEST(Dashboard, EveryPanelDrawsItsTitleAndContent) {
    App app = make_sample_app();
    for (int i = 0; i < int(Panel::count); ++i) {
        auto p = static_cast<Panel>(i);
        SCOPED_TRACE(panel_name(p));
        Image img = render(app, p);
        ASSERT_EQ(img.width, 1280);
        ASSERT_EQ(img.height, 800);
        App::Rect title = probe(app, "title");
        EXPECT_GT(title.x1 - title.x0, 20);
        EXPECT_TRUE(has_content(img, title, 40)) << "no title text";
        EXPECT_TRUE(has_content(img, probe(app, "content"), 5000)) << "panel body is empty";
        // The title is the panel's name: its width is the rendered width of that name in the title font.
        ImFont* font = ImGui::GetIO().Fonts->Fonts[1];
        float expected = font->CalcTextSizeA(font->FontSize, 1e9f, 0, panel_name(p)).x;
        EXPECT_NEAR(title.x1 - title.x0, expected, 1.0f);
    }
}

TEST(Dashboard, LineageRowsFitTheirColumnWithEveryAlias) {
    App app = make_sample_app();
    auto& m = app.registry.models[0];
    m.versions.back().aliases = {"staging", "candidate"};  // wider than the default column
    Image img = render(app, Panel::registry);
    App::Rect rows = probe(app, "registry.lineage"), column = probe(app, "registry.models");
    EXPECT_LE(rows.x1, column.x1 - ImGui::GetStyle().WindowPadding.x) << "a lineage row runs past its column";
    // Both aliases of the last row are drawn inside the column in the alias colour (kWarn): "@staging" alone gives
    // about 40 such pixels at this size, both about 117.
    App::Rect last_row{rows.x0, rows.y1 - 24, column.x1, rows.y1};
    EXPECT_GT(count_colour(img, last_row, {242, 179, 64}, 30), 90);
}

TEST(Dashboard, HeatmapCellsFollowTheColourRamp) {
    App app = make_sample_app();
    Image img = render(app, Panel::evaluate);
    App::Rect h = probe(app, "eval.heatmap");
    size_t n = app.eval.confusion.size();
    ASSERT_EQ(n, 10u);
    float cw = (h.x1 - h.x0) / n, ch = (h.y1 - h.y0) / n;
    int checked = 0;
    for (size_t t = 0; t < n; ++t) {
        int64_t total = 0;
        for (auto v : app.eval.confusion[t]) total += v;
        for (size_t c = 0; c < n; ++c) {
            // A corner of the cell, away from the count drawn in its middle.
            int x = int(h.x0 + cw * (c + 0.18f)), y = int(h.y0 + ch * (t + 0.18f));
            RGB want = heat_rgb(float(app.eval.confusion[t][c]) / float(total));
            EXPECT_TRUE(near(img.at(x, y), want, 3)) << "cell " << t << "," << c << " at " << x << "," << y << " is "
                                                     << int(img.at(x, y)[0]) << "," << int(img.at(x, y)[1]) << ","
                                                     << int(img.at(x, y)[2]) << ", expected " << int(want[0]) << ","
                                                     << int(want[1]) << "," << int(want[2]);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 100);
    // The diagonal is the bright end of the ramp, the rest the dark end: a heatmap drawn transposed or with a
    // flat colour would fail the cell checks above; this one guards the ramp's direction.
    auto top = heat_rgb(1.0f), bottom = heat_rgb(0.0f);
    EXPECT_GT(top[0] + top[1] + top[2], 3 * (bottom[0] + bottom[1] + bottom[2]));
}

TEST(Dashboard, QuotaBarFillMatchesUsage) {
    for (float want : {0.25f, 0.5f}) {
        App app = make_sample_app();
        app.storage.quota_bytes = 1 << 20;
        app.storage.used_bytes = int64_t(want * (1 << 20));
        Image img = render(app, Panel::storage);
        App::Rect q = probe(app, "storage.quota");
        int y = int((q.y0 + q.y1) / 2), filled = 0;
        for (int x = int(q.x0); x < int(q.x1); ++x) filled += near(img.at(x, y), {89, 161, 79}, 4);
        EXPECT_NEAR(filled / (q.x1 - q.x0), want, 0.01) << "fill of the quota bar";
    }
}

TEST(Dashboard, ClassBalanceBarsUseEachClassColour) {
    App app = make_sample_app();
    app.data.selected = 1;  // digits: 10 classes
    Image img = render(app, Panel::data);
    App::Rect r = probe(app, "data.balance");
    for (int c = 0; c < 10; ++c) EXPECT_GT(count_colour(img, r, class_rgb(c), 2), 300) << "class " << c;
    app.data.selected = 0;  // iris: 3 classes, so the 4th colour must be absent
    img = render(app, Panel::data);
    EXPECT_LT(count_colour(img, probe(app, "data.balance"), class_rgb(3), 2), 5);
    EXPECT_TRUE(app.probes.find("data.thumbs") == app.probes.end()) << "tabular data has no thumbnails";
}

TEST(Dashboard, ThumbnailsAreTheSampleImages) {
    App app = make_sample_app();
    app.data.selected = 1;
    Image img = render(app, Panel::data);
    App::Rect r = probe(app, "data.thumbs");
    // The first thumbnail is 56x56 pixels showing an 8x8 image with nearest filtering: each texel is a 7x7 block.
    auto& t = app.data.datasets[1].thumbnails[0];
    for (int ty = 0; ty < 8; ++ty)
        for (int tx = 0; tx < 8; ++tx) {
            // Sample near the top-left of each block: the bottom 4 pixels carry the class colour strip.
            const uint8_t* p = img.at(int(r.x0) + tx * 7 + 2, int(r.y0) + ty * 7 + 1);
            EXPECT_NEAR(p[0], t[size_t(ty) * 8 + tx], 2) << "texel " << tx << "," << ty;
        }
}

TEST(Dashboard, TrainingCurvesAreDrawnInTheirColours) {
    App app = make_sample_app();
    Image img = render(app, Panel::train);
    for (const char* plot : {"train.loss_plot", "train.acc_plot"}) {
        EXPECT_GT(count_colour(img, probe(app, plot), class_rgb(0), 12), 150) << plot << ": train curve";
        EXPECT_GT(count_colour(img, probe(app, plot), class_rgb(1), 12), 150) << plot << ": validation curve";
    }
    // Before any epoch, the plots hold only axes and the legend's short swatches.
    App empty = make_sample_app();
    empty.train.curves = {};
    img = render(empty, Panel::train);
    EXPECT_LT(count_colour(img, probe(empty, "train.loss_plot"), class_rgb(1), 12), 80);
}

TEST(Dashboard, PlaygroundCanvasShowsTheDrawing) {
    App app = make_sample_app();
    playground_predict(app);
    Image img = render(app, Panel::playground);
    App::Rect c = probe(app, "playground.canvas");
    int n = app.playground.size;
    float cell = (c.x1 - c.x0) / n;
    for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x) {
            float v = app.playground.canvas[size_t(y) * n + x];
            const uint8_t* p = img.at(int(c.x0 + (x + 0.5f) * cell), int(c.y0 + (y + 0.5f) * cell));
            EXPECT_NEAR(p[0], v <= 0.01f ? 0 : int(v * 255), 3) << "cell " << x << "," << y;
        }
    // The sample canvas is a 3, and the stand-in classifier says so.
    auto& probs = app.playground.probs;
    EXPECT_EQ(std::max_element(probs.begin(), probs.end()) - probs.begin(), 3);
}

TEST(Dashboard, HighDpiScalesTextAndLayout) {
    App app = make_sample_app();
    render(app, Panel::registry, 1.0f);
    App::Rect t1 = probe(app, "title");
    Image img = render(app, Panel::registry, 2.0f);
    App::Rect t2 = probe(app, "title");
    EXPECT_EQ(img.width, 2560);
    EXPECT_EQ(img.height, 1600);
    EXPECT_NEAR((t2.y1 - t2.y0) / (t1.y1 - t1.y0), 2.0, 0.15);
    EXPECT_NEAR((t2.x1 - t2.x0) / (t1.x1 - t1.x0), 2.0, 0.15);
    App::Rect tr = probe(app, "registry.table");
    EXPECT_TRUE(has_content(img, tr, 4000)) << tr.x0 << "," << tr.y0 << " " << tr.x1 << "," << tr.y1;
}

TEST(Dashboard, TrainingAdvancesAFewBatchesPerFrame) {
    App app = make_sample_app();
    app.train.state = RunState::idle;
    app.train.config.epochs = 3;
    size_t versions = app.registry.models[0].versions.size();
    train_start(app);
    ASSERT_EQ(app.train.state, RunState::running);
    engine_tick(app, 1 / 60.0);
    EXPECT_EQ(app.train.step, app.train.batches_per_frame) << "one frame runs batches_per_frame batches";
    float last = 0;
    int frames = 0;
    while (app.train.state == RunState::running && frames++ < 10000) {
        engine_tick(app, 1 / 60.0);
        EXPECT_GE(app.train.job.progress, last);
        last = app.train.job.progress;
    }
    EXPECT_EQ(app.train.state, RunState::done);
    EXPECT_EQ(app.train.curves.val_acc.size(), 3u);
    EXPECT_FLOAT_EQ(app.train.job.progress, 1.0f);
    // The core trained it (digits is bundled), but the sample registry is not a store: nothing is pretended saved.
    EXPECT_TRUE(app.train.session);
    EXPECT_EQ(app.registry.models[0].versions.size(), versions);
    EXPECT_NE(app.train.message.find("not saved"), std::string::npos) << app.train.message;
}

TEST(Dashboard, KeyboardShortcutsSwitchPanelsAndDriveTraining) {
    App app = make_app();
    app.pressed_keys = {'4'};  // as the platform latches them from key events
    render(app, Panel::data);   // render() sets the panel first; the shortcut then switches it
    EXPECT_EQ(app.panel, Panel::evaluate);
    EXPECT_TRUE(app.probes.count("eval.heatmap")) << "the frame drew the panel the shortcut chose";
    app.panel = Panel::train;
    app.pressed_keys = {' '};
    render_offscreen(app, {1280, 800, 1, 1, nullptr});
    EXPECT_EQ(app.train.state, RunState::running) << "Space starts training";
    app.pressed_keys = {'X'};
    render_offscreen(app, {1280, 800, 1, 1, nullptr});
    EXPECT_EQ(app.train.state, RunState::done) << "X stops it";
}

TEST(Dashboard, PromoteAndRollbackKeepTheAliasHistory) {
    App app = make_sample_app();
    auto& m = app.registry.models[0];
    size_t events = m.alias_history.size();
    app.registry.pending = {"promote", "production", 4};
    registry_apply(app);
    EXPECT_EQ(m.alias_target("production"), 4);
    app.registry.pending = {"rollback", "production", 0};
    registry_apply(app);
    EXPECT_EQ(m.alias_target("production"), 3);
    EXPECT_EQ(m.alias_history.size(), events + 2);
    EXPECT_EQ(m.alias_history.back().action, "rollback");
    app.registry.pending = {"delete", "", 3};  // aliased: refused
    registry_apply(app);
    EXPECT_NE(m.find(3), nullptr);
}

TEST(Dashboard, DataPanelShowsTheCoresBundledDatasets) {
    App app = make_app();
    auto find = [&](const char* name) -> const DatasetView* {
        for (auto& d : app.data.datasets)
            if (d.name == name) return &d;
        return nullptr;
    };
    const DatasetView* iris = find("iris");
    const DatasetView* digits = find("digits");
    ASSERT_TRUE(iris && digits);
    // Known class counts of scikit-learn's copies.
    EXPECT_EQ(iris->class_counts, (std::vector<int64_t>{50, 50, 50}));
    EXPECT_EQ(digits->class_counts, (std::vector<int64_t>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}));
    ASSERT_EQ(iris->preview.size(), 8u);
    EXPECT_FLOAT_EQ(iris->preview[0][0], 5.1f);  // first row of iris.csv: 5.1,3.5,1.4,0.2,setosa
    EXPECT_FLOAT_EQ(iris->preview[0][4], 0.0f);
    ASSERT_EQ(digits->thumbnails.size(), 30u);
    EXPECT_EQ(digits->image_w, 8);
    Image img = render(app, Panel::data);
    EXPECT_TRUE(has_content(img, probe(app, "data.thumbs"), 2000));
}

TEST(Dashboard, EvaluateShowsTheDigitsBaselineFromCoreMetrics) {
    App app = make_app();
    auto& cm = app.eval.confusion;
    ASSERT_EQ(cm.size(), 10u);
    int64_t total = 0, right = 0;
    for (size_t t = 0; t < 10; ++t)
        for (size_t c = 0; c < 10; ++c) total += cm[t][c], right += t == c ? cm[t][c] : 0;
    EXPECT_EQ(total, (1797 + 4) / 5) << "every fifth sample is held out";
    // Nearest class mean on the 8x8 digits scores about 0.90 (a well-known baseline); chance is 0.1.
    EXPECT_GT(double(right) / total, 0.85);
    for (auto& r : app.eval.roc) EXPECT_GT(r.auc, 0.9f);
    Image img = render(app, Panel::evaluate);
    App::Rect h = probe(app, "eval.heatmap");
    EXPECT_GT(count_colour(img, h, heat_rgb(1.0f), 40), 1000) << "bright diagonal";
}

// The Train panel drives the core's Trainer a few batches per frame, and a finished run lands in the registry
// over a store; the Registry, Storage and Compare panels then read it back.
TEST(Dashboard, RealTrainingRegistersVersionsTheRegistryPanelsRead) {
    App app = make_app();
    auto store = std::make_shared<MemoryStore>();
    registry_attach(app, store);
    EXPECT_TRUE(app.registry.models.empty());
    for (size_t i = 0; i < app.data.datasets.size(); ++i)
        if (app.data.datasets[i].name == "iris") app.train.config.dataset = int(i);
    app.train.config.layers = {{LayerKind::dense, 16, 3, Activation::relu}};
    app.train.config.epochs = 30;
    app.train.config.batch_size = 16;
    app.train.config.learning_rate = 0.05f;
    app.train.config.early_stopping = false;
    app.train.state = RunState::idle;
    for (int run = 0; run < 2; ++run) {
        // Training is deterministic in the seed (same seed, same weights, one shared blob): vary it.
        app.train.config.seed = 42 + run;
        train_start(app);
        ASSERT_EQ(app.train.state, RunState::running) << app.train.message;
        ASSERT_TRUE(app.train.session);
        int frames = 0;
        while (app.train.state == RunState::running && frames++ < 100000) engine_tick(app, 1 / 60.0);
        ASSERT_EQ(app.train.state, RunState::done) << app.train.message;
        EXPECT_EQ(app.train.curves.val_acc.size(), 30u);
    }
    // Iris with a small MLP reaches well above chance (1/3) on its validation fifth.
    EXPECT_GT(app.train.curves.val_acc.back(), 0.8f);
    ASSERT_EQ(app.registry.models.size(), 1u);
    auto& m = app.registry.models[0];
    EXPECT_EQ(m.name, "iris-mlp");
    ASSERT_EQ(m.versions.size(), 2u);
    EXPECT_EQ(m.versions[0].curves.val_acc.size(), 30u);
    EXPECT_FLOAT_EQ(m.versions[1].metrics.at("accuracy"), app.train.curves.val_acc.back());
    ASSERT_TRUE(m.versions[1].metrics.count("macro_f1"));  // the registry table's column
    // The manifest records both splits the way the CLI and the JS API do, and the settings as they were typed.
    Json manifest = load_manifest(*store, {"iris-mlp", 2});
    EXPECT_EQ(manifest["metrics"]["train"]["samples"].get<int64_t>() + manifest["metrics"]["validation"]["samples"].get<int64_t>(), 150);
    EXPECT_FLOAT_EQ(manifest["metrics"]["validation"]["accuracy"].get<float>(), app.train.curves.val_acc.back());
    for (const char* k : {"macro_precision", "macro_recall", "macro_f1"})
        EXPECT_GT(manifest["metrics"]["validation"][k].get<double>(), 0.5) << k;
    EXPECT_EQ(manifest["hyperparameters"]["learning_rate"].dump(), "0.05");
    EXPECT_EQ(m.versions[1].hyper.at("learning_rate"), "0.05");
    EXPECT_EQ(m.versions[0].hash.size(), 64u);
    EXPECT_FALSE(m.versions[0].layer_weights.empty());
    EXPECT_GT(app.storage.used_bytes, 1000);
    // Promote v2, then roll back: the history keeps both.
    app.registry.selected_model = 0;
    app.registry.pending = {"promote", "production", 1};
    registry_apply(app);
    app.registry.pending = {"promote", "production", 2};
    registry_apply(app);
    EXPECT_EQ(app.registry.models[0].alias_target("production"), 2);
    app.registry.pending = {"rollback", "production", 0};
    registry_apply(app);
    EXPECT_EQ(app.registry.models[0].alias_target("production"), 1) << app.registry.message;
    EXPECT_EQ(app.registry.models[0].alias_history.size(), 3u);
    // Notes and tags typed in the panel are saved to the store; archive and unarchive round-trip.
    app.registry.selected_version = 2;
    render(app, Panel::registry);  // a new selection fills the edit buffers from the stored version
    EXPECT_EQ(app.registry.edit_version, 2);
    app.registry.edit_notes = "wider net";
    app.registry.edit_tags = " candidate , reviewed,";
    app.registry.pending = {"annotate", "", 2};
    registry_apply(app);
    Json note = version_annotation(model_record(*store, "iris-mlp"), load_manifest(*store, {"iris-mlp", 2}));
    EXPECT_EQ(note["notes"], "wider net") << app.registry.message;
    EXPECT_EQ(note["tags"], (Json{"candidate", "reviewed"}));
    EXPECT_EQ(app.registry.models[0].find(2)->tags, (std::vector<std::string>{"candidate", "reviewed"}));
    app.registry.pending = {"archive", "", 2};
    registry_apply(app);
    EXPECT_EQ(list_versions(*store, "iris-mlp", false), (std::vector<int64_t>{1}));
    EXPECT_TRUE(app.registry.models[0].find(2)->archived);
    app.registry.pending = {"unarchive", "", 2};
    registry_apply(app);
    EXPECT_EQ(list_versions(*store, "iris-mlp", false), (std::vector<int64_t>{1, 2}));
    EXPECT_FALSE(app.registry.models[0].find(2)->archived);
    // Integrity: damage one blob of v2; the check flags v2 only.
    std::string blob = "blob/" + app.registry.models[0].versions[1].hash;
    ASSERT_TRUE(store->get(blob).has_value());
    Bytes bad = *store->get(blob);
    bad[bad.size() / 2] ^= 0xff;
    ASSERT_TRUE(store->commit({{}, {{blob, bad}}}));
    storage_check_start(app);
    for (int i = 0; i < 10 && app.storage.check.running; ++i) engine_tick(app, 1 / 60.0);
    ASSERT_EQ(app.storage.integrity.size(), 2u);
    EXPECT_EQ(app.storage.integrity[0].status, "ok");
    EXPECT_NE(app.storage.integrity[1].status, "ok");
    // Evaluate v1 (undamaged) on iris with core/metrics: 150 samples, most on the diagonal.
    evaluate_version(app, 1);
    ASSERT_EQ(app.eval.version, 1) << app.registry.message;
    int64_t total = 0, right = 0;
    for (size_t t = 0; t < app.eval.confusion.size(); ++t)
        for (size_t c = 0; c < app.eval.confusion.size(); ++c) total += app.eval.confusion[t][c], right += t == c ? app.eval.confusion[t][c] : 0;
    EXPECT_EQ(total, 150);
    EXPECT_GT(double(right) / total, 0.8);
    // The panels draw what the store holds.
    Image img = render(app, Panel::registry);
    EXPECT_TRUE(has_content(img, probe(app, "registry.table"), 1500));
    img = render(app, Panel::compare);
    EXPECT_TRUE(has_content(img, probe(app, "compare.distance"), 500));
}

// How a run ends, as the Train panel says it: early stopping names the epoch whose weights it kept, and the
// registered version scores as that epoch did (not as the last one); a diverged run registers nothing and keeps the
// core's advice.
TEST(Dashboard, RunEndingSaysWhichWeightsWereKeptAndADivergedRunRegistersNothing) {
    App app = make_app();
    auto store = std::make_shared<MemoryStore>();
    registry_attach(app, store);
    for (size_t i = 0; i < app.data.datasets.size(); ++i)
        if (app.data.datasets[i].name == "iris") app.train.config.dataset = int(i);
    auto run = [&] {
        app.train.state = RunState::idle;
        train_start(app);
        EXPECT_EQ(app.train.state, RunState::running) << app.train.message;
        for (int frames = 0; app.train.state == RunState::running && frames < 100000; ++frames) engine_tick(app, 1 / 60.0);
    };
    // A wide net at a high rate on 120 training rows: its validation loss turns up long before 300 epochs.
    app.train.config.layers = {{LayerKind::dense, 64, 3, Activation::relu}};
    app.train.config.optimizer = Optimizer::adam;
    app.train.config.learning_rate = 0.1f;
    app.train.config.batch_size = 8;
    app.train.config.epochs = 300;
    app.train.config.early_stopping = true;
    run();
    ASSERT_EQ(app.train.state, RunState::done);
    Json manifest = load_manifest(*store, {"iris-mlp", 1});
    ASSERT_EQ(manifest["training_history"]["stop_reason"], "early_stopping") << app.train.message;
    const int kept = app.train.kept_epoch, epochs = static_cast<int>(app.train.curves.val_loss.size());
    ASSERT_GE(kept, 1);
    EXPECT_EQ(epochs, kept + 3);  // the dashboard's patience
    EXPECT_EQ(manifest["training_history"]["best_epoch"], kept);
    EXPECT_EQ(app.train.curves.best_epoch, kept);
    EXPECT_EQ(*std::min_element(app.train.curves.val_loss.begin(), app.train.curves.val_loss.end()), app.train.curves.val_loss[kept - 1]);
    EXPECT_FLOAT_EQ(manifest["metrics"]["validation"]["accuracy"].get<float>(), app.train.curves.val_acc[kept - 1]);
    EXPECT_NE(app.train.message.find("ended after epoch " + std::to_string(epochs) + " of 300"), std::string::npos) << app.train.message;
    EXPECT_NE(app.train.message.find("epoch " + std::to_string(kept) + "'s weights kept"), std::string::npos) << app.train.message;
    ASSERT_EQ(app.registry.models.size(), 1u);
    EXPECT_EQ(app.registry.models[0].versions[0].curves.best_epoch, kept);  // the Compare panel's curves read it back
    const Image img = render(app, Panel::train);  // first: the probes are recorded while drawing
    EXPECT_TRUE(has_content(img, probe(app, "train.loss_plot"), 1500));
    EXPECT_GT(count_colour(img, probe(app, "train.loss_plot"), {89, 199, 115}, 24), 40);  // the dashed "best" marker

    // Plain SGD at a rate of 1e6 overflows within the first epoch's batches, or soon after.
    app.train.config.optimizer = Optimizer::sgd;
    app.train.config.learning_rate = 1e6f;
    app.train.config.early_stopping = false;
    app.train.config.epochs = 5;
    run();
    EXPECT_EQ(app.train.state, RunState::done);
    EXPECT_NE(app.train.message.find("nothing registered"), std::string::npos) << app.train.message;
    EXPECT_NE(app.train.message.find("diverged"), std::string::npos) << app.train.message;
    EXPECT_NE(app.train.message.find("lower learning rate"), std::string::npos) << app.train.message;
    EXPECT_EQ(list_versions(*store, "iris-mlp", true), (std::vector<int64_t>{1}));
}

// The page's store loads large values on first read: a read of one not loaded yet throws "need_fetch: <key>" and the
// page fetches it. An Evaluate click that meets one waits for the values and then runs (and opens the panel) without
// a second click; a real failure is reported and does not wait.
class LoadingStore final : public Store {
public:
    explicit LoadingStore(std::shared_ptr<Store> s) : inner_(std::move(s)) {}
    bool loading = false;  // blobs are "not loaded yet"
    std::optional<Bytes> get(const std::string& key) const override {
        if (loading && key.rfind("blob/", 0) == 0) throw std::runtime_error("need_fetch: " + key);
        return inner_->get(key);
    }
    std::vector<std::string> list(const std::string& prefix) const override { return inner_->list(prefix); }
    bool commit(const Batch& batch) override { return inner_->commit(batch); }
    std::string describe() const override { return "loading store"; }

private:
    std::shared_ptr<Store> inner_;
};

TEST(Dashboard, EvaluateWaitsForValuesTheStoreIsStillLoading) {
    App app = make_app();
    auto loading = std::make_shared<LoadingStore>(std::make_shared<MemoryStore>());
    registry_attach(app, loading);
    for (size_t i = 0; i < app.data.datasets.size(); ++i)
        if (app.data.datasets[i].name == "iris") app.train.config.dataset = int(i);
    app.train.config.layers = {{LayerKind::dense, 8, 3, Activation::relu}};
    app.train.config.epochs = 5;
    app.train.state = RunState::idle;
    train_start(app);
    for (int frames = 0; app.train.state == RunState::running && frames < 100000; ++frames) engine_tick(app, 1 / 60.0);
    ASSERT_EQ(app.train.state, RunState::done) << app.train.message;
    ASSERT_EQ(app.registry.models.size(), 1u);
    app.registry.selected_model = 0;
    app.panel = Panel::registry;

    loading->loading = true;
    evaluate_version(app, 1);
    EXPECT_EQ(app.eval.waiting_model, app.registry.models[0].name);
    EXPECT_EQ(app.eval.waiting_version, 1);
    EXPECT_EQ(app.eval.version, 0) << "nothing evaluated yet";
    EXPECT_EQ(app.panel, Panel::registry);
    EXPECT_NE(app.registry.message.find("Loading"), std::string::npos) << app.registry.message;
    evaluate_waiting(app);  // a refresh before the values arrived: still waiting, no error
    EXPECT_FALSE(app.eval.waiting_model.empty());

    loading->loading = false;  // the values arrived; the page refreshes
    evaluate_waiting(app);
    EXPECT_TRUE(app.eval.waiting_model.empty());
    EXPECT_EQ(app.eval.version, 1) << app.registry.message;
    EXPECT_EQ(app.panel, Panel::evaluate);
    int64_t total = 0;
    for (const auto& row : app.eval.confusion)
        for (int64_t c : row) total += c;
    EXPECT_EQ(total, 150);

    app.panel = Panel::registry;
    evaluate_version(app, 7);  // no such version: an error, not a wait
    EXPECT_TRUE(app.eval.waiting_model.empty());
    EXPECT_NE(app.registry.message.find("Cannot evaluate"), std::string::npos) << app.registry.message;
    EXPECT_EQ(app.panel, Panel::registry);
}

// A version whose blob fails its SHA-256 is shown as damaged with the reason, on Registry and Compare, and cannot
// be promoted; one whose values the page is still loading is shown as loading, not as damaged.
TEST(Dashboard, DamagedVersionsAreShownAndCannotBePromoted) {
    auto inner = std::make_shared<MemoryStore>();
    using test::make_desc;
    register_version(*inner, make_desc("m", 2, 0));
    register_version(*inner, make_desc("m", 4, 1, "m/1"));
    const std::string sha = load_version(*inner, "m/1").manifest["weights"]["blob"].get<std::string>();
    Bytes blob = *inner->get("blob/" + sha);
    blob[blob.size() / 2] ^= 0x01;
    Batch b;
    b.writes.push_back({"blob/" + sha, blob});
    inner->commit(b);
    auto loading = std::make_shared<LoadingStore>(inner);
    App app = make_app();
    loading->loading = true;
    registry_attach(app, loading);
    ASSERT_EQ(app.registry.models.size(), 1u);
    for (const auto& v : app.registry.models[0].versions) {
        EXPECT_TRUE(v.loading) << "v" << v.number;
        EXPECT_TRUE(v.damage.empty()) << v.damage;
    }
    loading->loading = false;
    registry_refresh(app);
    auto& m = app.registry.models[0];
    ASSERT_NE(m.find(1), nullptr);
    EXPECT_NE(m.find(1)->damage.find(sha), std::string::npos) << m.find(1)->damage;
    EXPECT_FALSE(m.find(1)->loading);
    EXPECT_TRUE(m.find(2)->damage.empty()) << m.find(2)->damage;
    app.registry.selected_model = 0;
    app.registry.selected_version = 1;
    Image img = render(app, Panel::registry);
    EXPECT_TRUE(has_content(img, probe(app, "registry.table"), 100));
    app.registry.pending = {"promote", "production", 1};
    registry_apply(app);
    EXPECT_EQ(app.registry.models[0].alias_target("production"), 0);
    EXPECT_NE(app.registry.message.find("cannot be loaded"), std::string::npos) << app.registry.message;
    app.compare.a = 1;
    app.compare.b = 2;
    render(app, Panel::compare);  // draws with one side unreadable (and the ImGui assert counter stays at zero)
}

// The Data panel opens a CSV file: a bad one is refused naming its line and column, with the list unchanged; a good
// one is selected, trained on and registered, and its version evaluates on it. Oracle: two well-separated blobs
// are learnable to nearly 100%.
TEST(Dashboard, OpensACsvFileTrainsOnItAndEvaluatesTheVersion) {
    App app = make_app();
    registry_attach(app, std::make_shared<MemoryStore>());
    const size_t bundled = app.data.datasets.size();
    data_open_csv(app, "bad.csv", "a,b,label\n1,2,x\n3,oops,y\n");
    EXPECT_EQ(app.data.datasets.size(), bundled);
    EXPECT_NE(app.data.message.find("line 3"), std::string::npos) << app.data.message;
    EXPECT_NE(app.data.message.find("oops"), std::string::npos) << app.data.message;
    data_open_csv(app, "iris", "a,label\n1,x\n2,y\n");  // a bundled name is refused, not shadowed
    EXPECT_EQ(app.data.datasets.size(), bundled);

    std::string csv = "f1,f2,kind\n";
    Rng rng(4);
    for (int i = 0; i < 200; ++i) {
        const bool right = i % 2;
        csv += std::to_string((right ? 2.0 : -2.0) + 0.5 * rng.normal()) + "," + std::to_string(0.5 * rng.normal()) + "," +
               (right ? "right" : "left") + "\n";
    }
    data_open_csv(app, "two blobs (1).csv", csv);  // registered as a model named "two-blobs-1-mlp"
    ASSERT_EQ(app.data.datasets.size(), bundled + 1) << app.data.message;
    EXPECT_EQ(app.data.selected, int(bundled));
    EXPECT_EQ(app.train.config.dataset, int(bundled));
    const DatasetView& view = app.data.datasets.back();
    EXPECT_EQ(view.rows, 200);
    EXPECT_EQ(view.class_names, (std::vector<std::string>{"left", "right"}));
    EXPECT_TRUE(has_content(render(app, Panel::data), whole(render(app, Panel::data)), 1000));

    app.train.config.layers = {{LayerKind::dense, 8, 3, Activation::relu}};
    app.train.config.epochs = 10;
    app.train.config.early_stopping = false;
    app.train.state = RunState::idle;
    train_start(app);
    ASSERT_EQ(app.train.state, RunState::running) << app.train.message;
    for (int frames = 0; app.train.state == RunState::running && frames < 100000; ++frames) engine_tick(app, 1 / 60.0);
    ASSERT_EQ(app.train.state, RunState::done) << app.train.message;
    EXPECT_GT(app.train.curves.val_acc.back(), 0.95f);
    ASSERT_EQ(app.registry.models.size(), 1u) << app.train.message;
    EXPECT_EQ(app.registry.models[0].name, "two-blobs-1-mlp");
    app.registry.selected_model = 0;
    evaluate_version(app, 1);
    ASSERT_EQ(app.eval.version, 1) << app.registry.message;
    int64_t total = 0, right = 0;
    for (size_t t = 0; t < app.eval.confusion.size(); ++t)
        for (size_t c = 0; c < app.eval.confusion[t].size(); ++c) total += app.eval.confusion[t][c], right += t == c ? app.eval.confusion[t][c] : 0;
    EXPECT_EQ(total, 200);
    EXPECT_GT(double(right) / total, 0.95);
}

#ifdef CAIRN_BINARY_DIR
TEST(Dashboard, CliWritesAScreenshotPng) {
    namespace fs = std::filesystem;
    std::string cairn = std::string(CAIRN_BINARY_DIR) + "/native/cairn";
    ASSERT_TRUE(fs::exists(cairn)) << cairn << " not built";
    fs::path out = fs::temp_directory_path() / ("cairn_dashboard_test_" + std::to_string(::getpid()) + ".png");
    std::string cmd = cairn + " dashboard --screenshot " + out.string() + " --panel evaluate --size 960x600 > /dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    int w = 0, h = 0, comp = 0;
    uint8_t* px = stbi_load(out.string().c_str(), &w, &h, &comp, 4);
    ASSERT_NE(px, nullptr);
    Image img;
    img.width = w, img.height = h;
    img.rgba.assign(px, px + size_t(w) * h * 4);
    stbi_image_free(px);
    fs::remove(out);
    EXPECT_EQ(w, 960);
    EXPECT_EQ(h, 600);
    EXPECT_TRUE(has_content(img, whole(img), 20000));
    EXPECT_GT(count_colour(img, whole(img), heat_rgb(1.0f), 40), 500) << "the heatmap's bright diagonal";
    EXPECT_NE(std::system((cairn + " dashboard --screenshot /tmp/x.png --panel nope 2> /dev/null").c_str()), 0);
}
#endif

}  // namespace
}  // namespace cairn::shell

// `cairn dashboard`: the Dear ImGui dashboard in a native window, or headless into a PNG:
//   cairn dashboard --screenshot FILE.png --panel NAME [--size 1280x800] [--scale 2]
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "native/cli.h"
#include "native/file_store.h"
#include "shell/app.h"
#include "shell/engine.h"
#include "shell/platform.h"

namespace cairn::cli {
namespace {

struct DashboardOptions {
    std::string screenshot, panel = "data", size = "1280x800", font, store;
    std::vector<std::string> data;  // CSV files to open in the Data panel
    float scale = 1.0f;
};

void parse_size(const std::string& s, int& w, int& h) {
    if (std::sscanf(s.c_str(), "%dx%d", &w, &h) != 2 || w < 64 || h < 64)
        fail("invalid_argument", "dashboard: --size expects WIDTHxHEIGHT with both at least 64, got '" + s + "'");
}

void dashboard(const DashboardOptions& o) {
    shell::App app = shell::make_app();
    auto panel = shell::panel_from_name(o.panel);
    if (!panel) {
        std::string names;
        for (int i = 0; i < static_cast<int>(shell::Panel::count); ++i)
            names += std::string(i ? ", " : "") + shell::panel_name(static_cast<shell::Panel>(i));
        fail("invalid_argument", "dashboard: unknown --panel '" + o.panel + "' (expected one of " + names + ")");
    }
    app.panel = *panel;
    for (const std::string& path : o.data) {
        std::ifstream f(path, std::ios::binary);
        if (!f) fail("not_found", "dashboard: --data: cannot open '" + path + "'");
        std::ostringstream text;
        text << f.rdbuf();
        shell::data_open_csv(app, std::filesystem::path(path).filename().string(), text.str());
        if (app.data.message.rfind("Cannot", 0) == 0) fail("parse_error", "dashboard: --data: " + app.data.message);
    }
    // A window works on the registry (like `cairn registry`); screenshots show the sample registry unless a
    // --store is given, so they are reproducible.
    if (o.screenshot.empty() || !o.store.empty()) {
        std::string root = o.store.empty() ? default_store_dir() : o.store;
        shell::registry_attach(app, std::make_shared<FileStore>(root));
        std::error_code ec;
        auto space = std::filesystem::space(root, ec);
        if (!ec) app.storage.quota_bytes = app.storage.used_bytes + static_cast<int64_t>(space.available);
    }
    int w = 0, h = 0;
    parse_size(o.size, w, h);
    const char* font = o.font.empty() ? nullptr : o.font.c_str();
    if (o.screenshot.empty()) {
        for (int sig : {SIGTERM, SIGINT}) std::signal(sig, [](int) { shell::request_window_close(); });
        shell::run_window(app, {w, h, "Cairn", font, nullptr});
        return;
    }
    if (app.panel == shell::Panel::train) {
        // Show a real run caught in the middle: train the default MLP on digits (seeded, so the picture is
        // reproducible) for 60% of its epochs, then pause.
        app.train.config.early_stopping = false;
        shell::train_start(app);
        while (app.train.state == shell::RunState::running && app.train.job.progress < 0.6f) shell::engine_tick(app, 1.0 / 60.0);
        shell::train_pause(app);
    }
    if (!(o.scale >= 0.5f && o.scale <= 4.0f)) fail("invalid_argument", "dashboard: --scale must be in 0.5..4");
    shell::Image img = shell::render_offscreen(app, {w, h, o.scale, 0, font});
    shell::write_png(img, o.screenshot);
    std::printf("wrote %s (%dx%d, panel %s)\n", o.screenshot.c_str(), img.width, img.height, shell::panel_name(app.panel));
}

const bool registered = add_commands(800, [](CLI::App& app) {
    auto* cmd = app.add_subcommand("dashboard", "Open the dashboard in a window, or render a panel to a PNG (headless)");
    static DashboardOptions o;
    cmd->add_option("--screenshot", o.screenshot, "Render headless (EGL) into this PNG instead of opening a window");
    cmd->add_option("--panel", o.panel, "Panel to show: data, train, registry, evaluate, compare, playground, storage")
        ->capture_default_str();
    cmd->add_option("--size", o.size, "Window or image size in UI units, WIDTHxHEIGHT")->capture_default_str();
    cmd->add_option("--scale", o.scale, "Device pixels per UI unit for screenshots (2 = high-DPI)")->capture_default_str();
    cmd->add_option("--font", o.font, "TTF font (default: DejaVu Sans)");
    cmd->add_option("--data", o.data, "CSV file to open in the Data panel and train on (repeatable)");
    cmd->add_option("--store", o.store,
                    "Registry folder (default for a window: $CAIRN_STORE, $XDG_DATA_HOME/cairn or ~/.local/share/cairn; "
                    "screenshots use sample data unless given)");
    cmd->callback([] { dashboard(o); });
});

}  // namespace
}  // namespace cairn::cli

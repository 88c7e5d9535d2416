// The Cairn dashboard: one Dear ImGui UI over shell/app.h, run by the page (web/dashboard.cpp) and natively
// (native/cmd_dashboard.cpp) through shell/platform.h.
//
// Coordinates: ImGui works in framebuffer pixels everywhere; app.ui_scale (devicePixelRatio in the page, the
// monitor's content scale natively, --scale for screenshots) scales fonts and spacing, so text is crisp on
// high-DPI screens.
#pragma once
#include <array>
#include <cstdint>

#include "shell/app.h"

namespace cairn::shell {

// Loads fonts and style for app.ui_scale if they are not loaded for it yet. Returns true when the font atlas
// changed (the renderer must then re-upload its font texture). font_path: a TTF file (DejaVu Sans); when it
// cannot be read, ImGui's built-in font is used.
bool dashboard_prepare(App& app, const char* font_path);

// Draws the whole dashboard for this frame (between ImGui::NewFrame() and ImGui::Render()), handling shortcuts.
void dashboard_draw(App& app);

// Each panel, drawn into the current window's remaining space.
void draw_data_panel(App& app);
void draw_train_panel(App& app);
void draw_registry_panel(App& app);
void draw_evaluate_panel(App& app);
void draw_compare_panel(App& app);
void draw_playground_panel(App& app);
void draw_storage_panel(App& app);

// The colours the dashboard uses, so tests can check what was drawn.
std::array<uint8_t, 3> heat_rgb(float t);       // heatmap ramp, t in 0..1 (dark blue -> teal -> yellow)
std::array<uint8_t, 3> class_rgb(int index);    // categorical palette for classes and series
std::array<uint8_t, 3> background_rgb();        // the window background
constexpr const char* kDefaultFontPath =
#if CAIRN_WASM
    "/fonts/DejaVuSans.ttf";  // embedded with --embed-file
#else
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
#endif

}  // namespace cairn::shell

// Where each labelled widget was drawn in the last complete frame, so tests can drive the dashboard with the mouse
// (ImGui draws everything into one canvas: there is no DOM to query). Filled through Dear ImGui's test-engine item
// hooks (IMGUI_ENABLE_TEST_ENGINE in shell/imconfig_cairn.h), which every button, selectable, checkbox, input and
// tree node reports with its label; recording is off until widget_map_enable() (the page turns it on).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace cairn::shell {

struct WidgetRect {
    std::string label;   // the visible label, the text before "##" ("Promote to production", "v2", "3  Registry"),
                         // or the whole label when nothing is visible ("##dataset")
    std::string window;  // the innermost window's name (popups: "Confirm")
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // framebuffer pixels, clipped to what is visible
};

void widget_map_enable(bool on);
// Every visible labelled widget of the last complete frame, in drawing order.
const std::vector<WidgetRect>& widget_map();
// A widget that reports no label (a combo box, ...) by the id label it was created with, directly inside a window
// whose name contains `window` (no PushID around it): e.g. ("config", "##dataset").
std::optional<WidgetRect> widget_by_id(const std::string& window, const std::string& label);

}  // namespace cairn::shell

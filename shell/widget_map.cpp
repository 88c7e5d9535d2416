// The widget map (shell/widget_map.h): Dear ImGui's test-engine hooks, reduced to "label -> visible rectangle".
#include "shell/widget_map.h"

#include <imgui.h>
#include <imgui_internal.h>

namespace cairn::shell {

namespace {
struct Map {
    int frame = -1;
    std::vector<WidgetRect> building, last;  // the frame being drawn, the last complete one
};
Map& map() {
    static Map m;
    return m;
}
}  // namespace

void widget_map_enable(bool on) {
    if (ImGuiContext* g = ImGui::GetCurrentContext()) g->TestEngineHookItems = on;
}

const std::vector<WidgetRect>& widget_map() {
    Map& m = map();
    ImGuiContext* g = ImGui::GetCurrentContext();
    if (g && !g->WithinFrameScope && m.frame == g->FrameCount) return m.building;  // the frame just drawn is complete
    return m.last;
}

}  // namespace cairn::shell

// --- the hooks ImGui calls (declared in imgui_internal.h) ---
void ImGuiTestEngineHook_ItemAdd(ImGuiContext*, const ImRect&, ImGuiID) {}
void ImGuiTestEngineHook_Log(ImGuiContext*, const char*, ...) {}
const char* ImGuiTestEngine_FindItemDebugLabel(ImGuiContext*, ImGuiID) { return nullptr; }

void ImGuiTestEngineHook_ItemInfo(ImGuiContext* ctx, ImGuiID, const char* label, ImGuiItemStatusFlags) {
    using namespace cairn::shell;
    if (!label || !*label || !ctx->CurrentWindow) return;
    Map& m = map();
    if (m.frame != ctx->FrameCount) {
        if (!m.building.empty()) m.last.swap(m.building);
        m.building.clear();
        m.frame = ctx->FrameCount;
    }
    ImRect r = ctx->LastItemData.Rect;
    r.ClipWithFull(ctx->CurrentWindow->ClipRect);
    if (r.GetWidth() <= 0 || r.GetHeight() <= 0) return;
    const char* end = ImGui::FindRenderedTextEnd(label);
    ImVec2 fs = ctx->IO.DisplayFramebufferScale;
    m.building.push_back({std::string(label, end), ctx->CurrentWindow->Name, r.Min.x * fs.x, r.Min.y * fs.y,
                          r.Max.x * fs.x, r.Max.y * fs.y});
}

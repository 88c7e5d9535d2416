// The widget map (shell/widget_map.h): Dear ImGui's test-engine hooks, reduced to "label -> visible rectangle".
#include "shell/widget_map.h"

#include <imgui.h>
#include <imgui_internal.h>

#include <cstring>
#include <optional>

namespace cairn::shell {

namespace {
struct Item {
    ImGuiID id;
    WidgetRect rect;
};
struct Map {
    int frame = -1;
    std::vector<WidgetRect> building, last;  // the frame being drawn, the last complete one
    std::vector<Item> items, last_items;     // every item with an id (also unlabelled ones: combos, sliders' frames)
};
void start_frame(Map& m, int frame) {
    if (m.frame == frame) return;
    if (!m.building.empty() || !m.items.empty()) m.last.swap(m.building), m.last_items.swap(m.items);
    m.building.clear(), m.items.clear();
    m.frame = frame;
}
bool visible_rect(ImGuiContext* ctx, ImRect r, WidgetRect& out) {
    r.ClipWithFull(ctx->CurrentWindow->ClipRect);
    if (r.GetWidth() <= 0 || r.GetHeight() <= 0) return false;
    ImVec2 fs = ctx->IO.DisplayFramebufferScale;
    out.window = ctx->CurrentWindow->Name;
    out.x0 = r.Min.x * fs.x, out.y0 = r.Min.y * fs.y, out.x1 = r.Max.x * fs.x, out.y1 = r.Max.y * fs.y;
    return true;
}
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

std::optional<WidgetRect> widget_by_id(const std::string& window, const std::string& label) {
    ImGuiContext* g = ImGui::GetCurrentContext();
    if (!g) return std::nullopt;
    Map& m = map();
    const auto& items = !g->WithinFrameScope && m.frame == g->FrameCount ? m.items : m.last_items;
    for (ImGuiWindow* w : g->Windows) {
        if (std::string(w->Name).find(window) == std::string::npos) continue;
        ImGuiID id = ImHashStr(label.c_str(), 0, w->ID);  // what window->GetID(label) gives with no PushID around it
        for (const Item& it : items)
            if (it.id == id) {
                WidgetRect r = it.rect;
                r.label = label;
                return r;
            }
    }
    return std::nullopt;
}

}  // namespace cairn::shell

// --- the hooks ImGui calls (declared in imgui_internal.h) ---
void ImGuiTestEngineHook_ItemAdd(ImGuiContext* ctx, const ImRect& bb, ImGuiID id) {
    using namespace cairn::shell;
    if (!ctx->CurrentWindow) return;
    Map& m = map();
    start_frame(m, ctx->FrameCount);
    Item it{id, {}};
    if (visible_rect(ctx, bb, it.rect)) m.items.push_back(std::move(it));
}
void ImGuiTestEngineHook_Log(ImGuiContext*, const char*, ...) {}
const char* ImGuiTestEngine_FindItemDebugLabel(ImGuiContext*, ImGuiID) { return ""; }  // ImGui prints it with %s

void ImGuiTestEngineHook_ItemInfo(ImGuiContext* ctx, ImGuiID, const char* label, ImGuiItemStatusFlags) {
    using namespace cairn::shell;
    if (!label || !*label || !ctx->CurrentWindow) return;
    Map& m = map();
    start_frame(m, ctx->FrameCount);
    WidgetRect w;
    if (!visible_rect(ctx, ctx->LastItemData.Rect, w)) return;
    const char* end = ImGui::FindRenderedTextEnd(label);
    if (end == label) end = label + std::strlen(label);  // no visible text ("##x"): the whole id
    w.label.assign(label, end);
    m.building.push_back(std::move(w));
}

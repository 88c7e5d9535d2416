// The Cairn dashboard: layout, style, shortcuts and the seven panels.
//
// Index of this file
// [SECTION] Colours and style
// [SECTION] Fonts
// [SECTION] Textures
// [SECTION] Widgets (probes, plots, bars, progress)
// [SECTION] Data panel
// [SECTION] Train panel
// [SECTION] Registry panel
// [SECTION] Evaluate panel
// [SECTION] Compare panel
// [SECTION] Playground panel
// [SECTION] Storage panel
// [SECTION] Frame (layout, navigation, shortcuts, help)
#include "shell/dashboard.h"

#include <imgui.h>
#include <imgui_internal.h>
#include <misc/cpp/imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <GLES3/gl3.h>

#include "shell/engine.h"

namespace cairn::shell {

//-----------------------------------------------------------------------------
// [SECTION] Colours and style
//-----------------------------------------------------------------------------

namespace {

ImU32 to_u32(std::array<uint8_t, 3> c, int a = 255) { return IM_COL32(c[0], c[1], c[2], a); }
ImVec4 to_vec4(std::array<uint8_t, 3> c, float a = 1.0f) { return ImVec4(c[0] / 255.0f, c[1] / 255.0f, c[2] / 255.0f, a); }

const ImVec4 kAccent(0.27f, 0.62f, 0.90f, 1.0f);
const ImVec4 kGood(0.35f, 0.78f, 0.45f, 1.0f);
const ImVec4 kWarn(0.95f, 0.70f, 0.25f, 1.0f);
const ImVec4 kBad(0.92f, 0.36f, 0.33f, 1.0f);
const ImVec4 kDim(0.60f, 0.64f, 0.70f, 1.0f);

void apply_style(float scale) {
    ImGuiStyle& s = ImGui::GetStyle();
    s = ImGuiStyle();
    ImGui::StyleColorsDark(&s);
    s.WindowRounding = 4, s.ChildRounding = 4, s.FrameRounding = 3, s.GrabRounding = 3, s.PopupRounding = 4;
    s.TabRounding = 3, s.ScrollbarRounding = 6;
    s.WindowPadding = ImVec2(10, 10), s.FramePadding = ImVec2(7, 4), s.ItemSpacing = ImVec2(8, 6);
    s.CellPadding = ImVec2(6, 3);
    s.WindowBorderSize = 0, s.ChildBorderSize = 1, s.FrameBorderSize = 0;
    ImVec4* c = s.Colors;
    c[ImGuiCol_WindowBg] = to_vec4(background_rgb());
    c[ImGuiCol_ChildBg] = ImVec4(0.13f, 0.145f, 0.17f, 1.0f);
    c[ImGuiCol_PopupBg] = ImVec4(0.14f, 0.155f, 0.18f, 0.98f);
    c[ImGuiCol_Border] = ImVec4(0.24f, 0.26f, 0.30f, 1.0f);
    c[ImGuiCol_FrameBg] = ImVec4(0.19f, 0.21f, 0.25f, 1.0f);
    c[ImGuiCol_FrameBgHovered] = ImVec4(0.24f, 0.27f, 0.32f, 1.0f);
    c[ImGuiCol_FrameBgActive] = ImVec4(0.27f, 0.31f, 0.37f, 1.0f);
    c[ImGuiCol_Button] = ImVec4(0.20f, 0.33f, 0.48f, 1.0f);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.25f, 0.42f, 0.62f, 1.0f);
    c[ImGuiCol_ButtonActive] = ImVec4(0.22f, 0.50f, 0.78f, 1.0f);
    c[ImGuiCol_Header] = ImVec4(0.20f, 0.33f, 0.48f, 0.80f);
    c[ImGuiCol_HeaderHovered] = ImVec4(0.25f, 0.42f, 0.62f, 0.80f);
    c[ImGuiCol_HeaderActive] = ImVec4(0.22f, 0.50f, 0.78f, 1.0f);
    c[ImGuiCol_CheckMark] = kAccent;
    c[ImGuiCol_SliderGrab] = kAccent;
    c[ImGuiCol_PlotHistogram] = kAccent;
    c[ImGuiCol_TableHeaderBg] = ImVec4(0.17f, 0.19f, 0.23f, 1.0f);
    c[ImGuiCol_TableRowBgAlt] = ImVec4(1, 1, 1, 0.03f);
    c[ImGuiCol_Text] = ImVec4(0.90f, 0.92f, 0.94f, 1.0f);
    c[ImGuiCol_TextDisabled] = kDim;
    s.ScaleAllSizes(scale);
}

}  // namespace

std::array<uint8_t, 3> background_rgb() { return {26, 29, 34}; }

std::array<uint8_t, 3> class_rgb(int index) {
    // Tableau 10: distinct on a dark background and for the common colour-vision deficiencies.
    static const std::array<uint8_t, 3> p[10] = {{78, 121, 167}, {242, 142, 43}, {225, 87, 89},  {118, 183, 178}, {89, 161, 79},
                                                {237, 201, 72}, {176, 122, 161}, {255, 157, 167}, {156, 117, 95}, {186, 176, 172}};
    return p[((index % 10) + 10) % 10];
}

std::array<uint8_t, 3> heat_rgb(float t) {
    // Five stops of a viridis-like ramp, interpolated linearly.
    static const float stops[5][3] = {{30, 35, 70}, {40, 90, 140}, {32, 145, 140}, {110, 200, 90}, {250, 230, 50}};
    t = std::clamp(t, 0.0f, 1.0f) * 4.0f;
    int i = std::min(3, static_cast<int>(t));
    float f = t - i;
    std::array<uint8_t, 3> out{};
    for (int k = 0; k < 3; ++k) out[k] = static_cast<uint8_t>(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f + 0.5f);
    return out;
}

//-----------------------------------------------------------------------------
// [SECTION] Fonts
//-----------------------------------------------------------------------------

namespace {

struct Fonts {
    float scale = 0;  // the scale they were built for; 0: not built
    ImFont* body = nullptr;
    ImFont* title = nullptr;
    ImFont* small = nullptr;
} g_fonts;

}  // namespace

bool dashboard_prepare(App& app, const char* font_path) {
    float scale = std::clamp(app.ui_scale, 0.5f, 4.0f);
    if (g_fonts.scale == scale) return false;
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // the layout is fixed; nothing to persist
    io.Fonts->Clear();
    std::vector<char> ttf;
    if (font_path) {
        std::ifstream f(font_path, std::ios::binary);
        ttf.assign(std::istreambuf_iterator<char>(f), {});
    }
    // Latin-1 plus the few symbols the UI uses (arrows, triangles, check marks).
    static const ImWchar ranges[] = {0x0020, 0x00FF, 0x2013, 0x2014, 0x2022, 0x2022, 0x2190, 0x2193, 0x25A0, 0x25CF,
                                     0x2713, 0x2717, 0};
    auto add = [&](float px) {
        if (ttf.empty()) {
            ImFontConfig cfg;
            cfg.SizePixels = std::round(px * 0.85f);
            return io.Fonts->AddFontDefault(&cfg);
        }
        ImFontConfig cfg;
        cfg.FontDataOwnedByAtlas = false;  // ttf outlives the atlas build below
        cfg.OversampleH = 2;
        return io.Fonts->AddFontFromMemoryTTF(ttf.data(), static_cast<int>(ttf.size()), std::round(px), &cfg, ranges);
    };
    g_fonts.body = add(15.0f * scale);
    g_fonts.title = add(21.0f * scale);
    g_fonts.small = add(12.5f * scale);
    io.Fonts->Build();  // rasterize now, while the TTF bytes are alive
    io.FontDefault = g_fonts.body;
    apply_style(scale);
    g_fonts.scale = scale;
    return true;
}

//-----------------------------------------------------------------------------
// [SECTION] Textures
//-----------------------------------------------------------------------------

namespace {

// Grey images uploaded once as RGBA textures, keyed by their contents (FNV-1a; thumbnails are tiny).
ImTextureID grey_texture(const std::vector<uint8_t>& grey, int w, int h) {
    struct Entry { uint64_t key; GLuint tex; };
    static std::vector<Entry> cache;
    uint64_t key = 1469598103934665603ull ^ (static_cast<uint64_t>(w) << 32 | static_cast<uint64_t>(h));
    for (uint8_t b : grey) key = (key ^ b) * 1099511628211ull;
    for (auto& e : cache)
        if (e.key == key) return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(e.tex));
    std::vector<uint8_t> rgba(static_cast<size_t>(w) * h * 4);
    for (size_t i = 0; i < grey.size() && i * 4 < rgba.size(); ++i)
        rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = grey[i], rgba[i * 4 + 3] = 255;
    GLuint tex = 0;
    GLint last = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &last);
    glGenTextures(1, &tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
    glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(last));
    cache.push_back({key, tex});
    return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(tex));
}

//-----------------------------------------------------------------------------
// [SECTION] Widgets (probes, plots, bars, progress)
//-----------------------------------------------------------------------------

float S(float v) { return v * g_fonts.scale; }  // UI units -> pixels

// Records where something was drawn (framebuffer pixels) so tests can look there.
void probe(App& app, const char* name, ImVec2 a, ImVec2 b) {
    ImVec2 fs = ImGui::GetIO().DisplayFramebufferScale;
    app.probes[name] = {a.x * fs.x, a.y * fs.y, b.x * fs.x, b.y * fs.y};
}
void probe_last_item(App& app, const char* name) { probe(app, name, ImGui::GetItemRectMin(), ImGui::GetItemRectMax()); }

void section(const char* label) {
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, kAccent);
    ImGui::TextUnformatted(label);
    ImGui::PopStyleColor();
    ImGui::Separator();
}

std::string fmt_bytes(int64_t b) {
    char buf[32];
    if (b >= 1 << 30) std::snprintf(buf, sizeof buf, "%.1f GB", b / 1073741824.0);
    else if (b >= 1 << 20) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1048576.0);
    else if (b >= 1 << 10) std::snprintf(buf, sizeof buf, "%.1f KB", b / 1024.0);
    else std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
    return buf;
}

std::string fmt_duration(double s) {
    char buf[32];
    if (s < 0) return "--";
    int t = static_cast<int>(s + 0.5);
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, t / 60 % 60);
    else std::snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
    return buf;
}

// A progress bar with the job's label, percentage and ETA; every long action shows one.
void job_progress(const Job& job, float width = -1) {
    char overlay[160];
    if (job.running)
        std::snprintf(overlay, sizeof overlay, "%s  %.0f%%  ETA %s", job.label.c_str(), job.progress * 100, fmt_duration(job.eta_s()).c_str());
    else
        std::snprintf(overlay, sizeof overlay, "%s  %.0f%%%s", job.label.c_str(), job.progress * 100, job.progress >= 1 ? "  done" : "");
    ImGui::ProgressBar(job.progress, ImVec2(width, 0), overlay);
}

struct Series {
    const char* label;
    const std::vector<float>* values;
    std::array<uint8_t, 3> color;
    bool dashed = false;
    const std::vector<float>* xs = nullptr;  // optional x values (0..1 range of the x axis); default: index
};

// Line plot with axes, grid, legend and hover readout. y range fixed when lo < hi, else fitted. best_epoch (1-based,
// per-epoch series only) draws a marker at the epoch early stopping counts as best.
void plot(App& app, const char* id, const char* title, const std::vector<Series>& series, ImVec2 size, float lo = 0,
          float hi = 0, float x_max = 0, int best_epoch = 0) {
    ImGui::PushID(id);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImVec2 p0 = ImGui::GetCursorScreenPos();
    if (size.x <= 0) size.x = ImGui::GetContentRegionAvail().x;
    ImGui::InvisibleButton("plot", size);
    bool hovered = ImGui::IsItemHovered();
    ImVec2 p1(p0.x + size.x, p0.y + size.y);
    probe(app, id, p0, p1);
    dl->AddRectFilled(p0, p1, IM_COL32(20, 23, 28, 255), S(3));
    dl->AddRect(p0, p1, IM_COL32(60, 66, 76, 255), S(3));
    float left = S(42), right = S(10), top = S(24), bottom = S(20);
    ImVec2 a(p0.x + left, p0.y + top), b(p1.x - right, p1.y - bottom);
    dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(p0.x + S(8), p0.y + S(5)), IM_COL32(200, 205, 212, 255), title);
    size_t n = 0;
    if (!(lo < hi)) {
        lo = 1e30f, hi = -1e30f;
        for (auto& s : series)
            for (float v : *s.values) lo = std::min(lo, v), hi = std::max(hi, v);
        if (lo > hi) {
            lo = 0, hi = 1;  // nothing plotted yet
        } else {
            if (lo == hi) lo -= 0.5f, hi += 0.5f;
            // The margin keeps a curve off the frame, but not below zero when no value is negative (a loss).
            const float pad = (hi - lo) * 0.08f;
            lo = lo >= 0 ? std::max(0.0f, lo - pad) : lo - pad;
            hi += pad;
        }
    }
    for (auto& s : series) n = std::max(n, s.values->size());
    if (x_max <= 0) x_max = static_cast<float>(std::max<size_t>(n, 2) - 1);
    // Grid and y labels.
    for (int g = 0; g <= 4; ++g) {
        float y = b.y - (b.y - a.y) * g / 4.0f;
        dl->AddLine(ImVec2(a.x, y), ImVec2(b.x, y), IM_COL32(255, 255, 255, g == 0 ? 60 : 18));
        char lab[16];
        std::snprintf(lab, sizeof lab, "%.2f", lo + (hi - lo) * g / 4.0f);
        dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(p0.x + S(6), y - S(7)), IM_COL32(150, 156, 166, 255), lab);
    }
    // A series without xs has one value per epoch, counted from 1 as the tooltip and the run status count them.
    const bool per_epoch = series.empty() || series[0].xs == nullptr;
    char xl[32];
    std::snprintf(xl, sizeof xl, "%g", per_epoch ? x_max + 1 : x_max);
    dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(b.x - S(18), b.y + S(3)), IM_COL32(150, 156, 166, 255), xl);
    dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(a.x, b.y + S(3)), IM_COL32(150, 156, 166, 255), per_epoch ? "1" : "0");
    auto map = [&](float x, float v) {
        return ImVec2(a.x + (b.x - a.x) * (x_max > 0 ? x / x_max : 0), b.y - (b.y - a.y) * (v - lo) / (hi - lo));
    };
    dl->PushClipRect(a, ImVec2(b.x + 1, b.y + 1), true);
    for (auto& s : series) {
        const auto& v = *s.values;
        for (size_t i = 1; i < v.size(); ++i) {
            float x0 = s.xs ? (*s.xs)[i - 1] * x_max : static_cast<float>(i - 1), x1 = s.xs ? (*s.xs)[i] * x_max : static_cast<float>(i);
            ImVec2 q0 = map(x0, v[i - 1]), q1 = map(x1, v[i]);
            if (!s.dashed) {
                dl->AddLine(q0, q1, to_u32(s.color), S(2));
                continue;
            }
            float len = std::hypot(q1.x - q0.x, q1.y - q0.y), dash = S(6);
            for (float t = 0; t < len; t += 2 * dash) {
                float t1 = std::min(len, t + dash);
                dl->AddLine(ImVec2(q0.x + (q1.x - q0.x) * t / len, q0.y + (q1.y - q0.y) * t / len),
                            ImVec2(q0.x + (q1.x - q0.x) * t1 / len, q0.y + (q1.y - q0.y) * t1 / len), to_u32(s.color), S(1.5f));
            }
        }
        if (v.size() == 1) dl->AddCircleFilled(map(0, v[0]), S(3), to_u32(s.color));
    }
    if (per_epoch && best_epoch > 0 && static_cast<size_t>(best_epoch) <= n && x_max > 0) {
        const float x = std::floor(map(static_cast<float>(best_epoch - 1), lo).x);  // AddLine centres on the pixel: crisp
        for (float y = a.y; y < b.y; y += S(8)) dl->AddLine(ImVec2(x, y), ImVec2(x, std::min(b.y, y + S(4))), ImGui::GetColorU32(kGood), S(1));
        dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(x + S(4), a.y + S(2)), ImGui::GetColorU32(kGood), "best");
    }
    dl->PopClipRect();
    // Legend, right-aligned in the title row.
    float lx = p1.x - S(8);
    for (auto it = series.rbegin(); it != series.rend(); ++it) {
        if (!*it->label) continue;
        float w = g_fonts.small->CalcTextSizeA(g_fonts.small->FontSize, 1e9f, 0, it->label).x;
        lx -= w;
        dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(lx, p0.y + S(5)), IM_COL32(200, 205, 212, 255), it->label);
        lx -= S(16);
        dl->AddLine(ImVec2(lx, p0.y + S(12)), ImVec2(lx + S(12), p0.y + S(12)), to_u32(it->color), S(3));
        lx -= S(10);
    }
    if (hovered && n > 0 && per_epoch) {
        float mx = ImGui::GetIO().MousePos.x;
        int i = static_cast<int>(std::round((mx - a.x) / (b.x - a.x) * x_max));
        if (i >= 0 && i < static_cast<int>(n)) {
            dl->AddLine(ImVec2(map(static_cast<float>(i), lo).x, a.y), ImVec2(map(static_cast<float>(i), lo).x, b.y), IM_COL32(255, 255, 255, 60));
            ImGui::BeginTooltip();
            ImGui::Text("epoch %d", i + 1);
            for (auto& s : series)
                if (i < static_cast<int>(s.values->size())) ImGui::TextColored(to_vec4(s.color), "%s %.4f", s.label, (*s.values)[i]);
            ImGui::EndTooltip();
        }
    }
    ImGui::PopID();
}

// A horizontal bar with a label on the left and the value on the right.
void hbar(const char* label, float fraction, const char* value, std::array<uint8_t, 3> color, float label_w) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImVec2 p = ImGui::GetCursorScreenPos();
    float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetTextLineHeight();
    ImGui::Dummy(ImVec2(w, h + S(4)));
    dl->AddText(ImVec2(p.x, p.y + S(2)), IM_COL32(220, 224, 230, 255), label);
    float vw = S(70);
    ImVec2 a(p.x + label_w, p.y + S(2)), b(p.x + w - vw, p.y + h + S(2));
    dl->AddRectFilled(a, b, IM_COL32(40, 44, 52, 255), S(2));
    dl->AddRectFilled(a, ImVec2(a.x + (b.x - a.x) * std::clamp(fraction, 0.0f, 1.0f), b.y), to_u32(color), S(2));
    dl->AddText(ImVec2(b.x + S(8), p.y + S(2)), IM_COL32(200, 205, 212, 255), value);
}

void help_marker(const char* text) {
    ImGui::SameLine();
    ImGui::TextDisabled("(?)");
    if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(S(320));
        ImGui::TextUnformatted(text);
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
}

ModelInfo* selected_model(App& app) {
    auto& r = app.registry;
    if (r.models.empty()) return nullptr;
    r.selected_model = std::clamp(r.selected_model, 0, static_cast<int>(r.models.size()) - 1);
    return &r.models[static_cast<size_t>(r.selected_model)];
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Data panel
//-----------------------------------------------------------------------------

void draw_data_panel(App& app) {
    auto& d = app.data;
    if (d.datasets.empty()) {
        ImGui::TextDisabled("No datasets bundled.");
        return;
    }
    d.selected = std::clamp(d.selected, 0, static_cast<int>(d.datasets.size()) - 1);
    float list_w = S(300);
    ImGui::BeginChild("datasets", ImVec2(list_w, 0), true);
    section("Datasets");
    if (d.open_csv && ImGui::Button("Open CSV...")) d.open_csv();
    if (!d.message.empty()) {
        ImGui::PushTextWrapPos(0);
        ImGui::TextColored(d.message.rfind("Cannot", 0) == 0 ? kBad : kDim, "%s", d.message.c_str());
        ImGui::PopTextWrapPos();
    }
    if (ImGui::BeginTable("ds", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
        ImGui::TableSetupColumn("name", ImGuiTableColumnFlags_WidthStretch, 2);
        ImGui::TableSetupColumn("rows", ImGuiTableColumnFlags_WidthStretch, 1);
        ImGui::TableSetupColumn("classes", ImGuiTableColumnFlags_WidthStretch, 1);
        ImGui::TableHeadersRow();
        for (int i = 0; i < static_cast<int>(d.datasets.size()); ++i) {
            auto& ds = d.datasets[static_cast<size_t>(i)];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            if (ImGui::Selectable(ds.name.c_str(), d.selected == i, ImGuiSelectableFlags_SpanAllColumns)) d.selected = i;
            ImGui::TableNextColumn();
            ImGui::Text("%lld", static_cast<long long>(ds.rows));
            ImGui::TableNextColumn();
            ImGui::Text("%zu", ds.class_names.size());
        }
        ImGui::EndTable();
    }
    auto& ds = d.datasets[static_cast<size_t>(d.selected)];
    section("Class balance");
    probe(app, "data.balance.begin", ImGui::GetCursorScreenPos(), ImGui::GetCursorScreenPos());
    int64_t mx = 1;
    for (auto c : ds.class_counts) mx = std::max(mx, c);
    ImVec2 bal0 = ImGui::GetCursorScreenPos();
    for (size_t c = 0; c < ds.class_counts.size(); ++c) {
        char v[32];
        std::snprintf(v, sizeof v, "%lld", static_cast<long long>(ds.class_counts[c]));
        hbar(c < ds.class_names.size() ? ds.class_names[c].c_str() : "?", static_cast<float>(ds.class_counts[c]) / mx, v,
             class_rgb(static_cast<int>(c)), S(90));
    }
    probe(app, "data.balance", bal0, ImVec2(bal0.x + ImGui::GetContentRegionAvail().x, ImGui::GetCursorScreenPos().y));
    ImGui::EndChild();

    ImGui::SameLine();
    ImGui::BeginChild("dataset", ImVec2(0, 0), true);
    ImGui::PushFont(g_fonts.title);
    ImGui::TextUnformatted(ds.name.c_str());
    ImGui::PopFont();
    ImGui::TextDisabled("%s", ds.description.c_str());
    ImGui::Text("%lld rows, %zu features%s, %zu classes", static_cast<long long>(ds.rows),
                ds.image_h ? static_cast<size_t>(ds.image_h * ds.image_w) : ds.columns.size(), ds.image_h ? " (pixels)" : "",
                ds.class_names.size());
    section("Preview");
    int shown = std::min<int>(static_cast<int>(ds.columns.size()), 8);
    if (ImGui::BeginTable("preview", shown + 1, ImGuiTableFlags_RowBg | ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchSame)) {
        for (int c = 0; c < shown; ++c) ImGui::TableSetupColumn(ds.columns[static_cast<size_t>(c)].c_str());
        ImGui::TableSetupColumn("label");
        ImGui::TableHeadersRow();
        for (auto& row : ds.preview) {
            ImGui::TableNextRow();
            for (int c = 0; c < shown && c + 1 < static_cast<int>(row.size()); ++c) {
                ImGui::TableNextColumn();
                ImGui::Text("%g", row[static_cast<size_t>(c)]);
            }
            ImGui::TableSetColumnIndex(shown);
            int label = static_cast<int>(row.back());
            ImGui::TextColored(to_vec4(class_rgb(label)), "%s",
                               label >= 0 && label < static_cast<int>(ds.class_names.size()) ? ds.class_names[static_cast<size_t>(label)].c_str() : "?");
        }
        ImGui::EndTable();
    }
    if (static_cast<int>(ds.columns.size()) > shown) ImGui::TextDisabled("(%zu more columns)", ds.columns.size() - shown);
    if (!ds.thumbnails.empty()) {
        section("Samples");
        float cell = S(56), gap = S(8);
        ImVec2 t0 = ImGui::GetCursorScreenPos();
        int per_row = std::max(1, static_cast<int>((ImGui::GetContentRegionAvail().x + gap) / (cell + gap)));
        for (size_t i = 0; i < ds.thumbnails.size(); ++i) {
            if (i % per_row) ImGui::SameLine(0, gap);
            ImGui::BeginGroup();
            ImGui::Image(grey_texture(ds.thumbnails[i], ds.image_w, ds.image_h), ImVec2(cell, cell));
            int label = i < ds.thumbnail_labels.size() ? ds.thumbnail_labels[i] : 0;
            ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(ImGui::GetItemRectMin().x, ImGui::GetItemRectMax().y - S(4)),
                                                      ImGui::GetItemRectMax(), to_u32(class_rgb(label)));
            ImGui::EndGroup();
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("sample %zu: %s", i, label < static_cast<int>(ds.class_names.size()) ? ds.class_names[label].c_str() : "?");
        }
        probe(app, "data.thumbs", t0, ImVec2(t0.x + per_row * (cell + gap), ImGui::GetCursorScreenPos().y));
    }
    ImGui::EndChild();
}

//-----------------------------------------------------------------------------
// [SECTION] Train panel
//-----------------------------------------------------------------------------

namespace {

template <class E> bool enum_combo(const char* label, E& value, const char* (*name)(E)) {
    bool changed = false;
    if (ImGui::BeginCombo(label, name(value))) {
        for (int i = 0; i < static_cast<int>(E::count); ++i) {
            bool sel = static_cast<int>(value) == i;
            if (ImGui::Selectable(name(static_cast<E>(i)), sel)) value = static_cast<E>(i), changed = true;
        }
        ImGui::EndCombo();
    }
    return changed;
}

void architecture_editor(App& app) {
    auto& layers = app.train.config.layers;
    bool locked = app.train.state == RunState::running || app.train.state == RunState::paused;
    ImGui::BeginDisabled(locked);
    int remove = -1, up = -1;
    if (ImGui::BeginTable("layers", 5, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
        ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed, S(18));
        ImGui::TableSetupColumn("layer", ImGuiTableColumnFlags_WidthStretch, 1.2f);
        ImGui::TableSetupColumn("size", ImGuiTableColumnFlags_WidthStretch, 1.0f);
        ImGui::TableSetupColumn("activation", ImGuiTableColumnFlags_WidthStretch, 1.2f);
        ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed, S(54));
        ImGui::TableHeadersRow();
        for (int i = 0; i < static_cast<int>(layers.size()); ++i) {
            auto& l = layers[static_cast<size_t>(i)];
            ImGui::PushID(i);
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::Text("%d", i);
            ImGui::TableNextColumn();
            ImGui::SetNextItemWidth(-1);
            enum_combo("##kind", l.kind, layer_kind_name);
            ImGui::TableNextColumn();
            ImGui::SetNextItemWidth(-1);
            if (l.kind == LayerKind::flatten) ImGui::TextDisabled("-");
            else if (ImGui::InputScalar("##size", ImGuiDataType_S32, &l.size, nullptr, nullptr,
                                        l.kind == LayerKind::dropout ? "%d%%" : "%d"))
                l.size = std::clamp(l.size, 1, l.kind == LayerKind::dropout ? 95 : 4096);
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("%s", l.kind == LayerKind::dense ? "units" : l.kind == LayerKind::conv2d ? "filters (3x3)"
                                        : l.kind == LayerKind::maxpool ? "window" : l.kind == LayerKind::dropout ? "drop %" : "");
            ImGui::TableNextColumn();
            ImGui::SetNextItemWidth(-1);
            if (l.kind == LayerKind::dense || l.kind == LayerKind::conv2d) enum_combo("##act", l.activation, activation_name);
            else ImGui::TextDisabled("-");
            ImGui::TableNextColumn();
            if (ImGui::SmallButton("^")) up = i;
            ImGui::SameLine(0, S(2));
            if (ImGui::SmallButton("x")) remove = i;
            ImGui::PopID();
        }
        ImGui::EndTable();
    }
    if (up > 0) std::swap(layers[static_cast<size_t>(up)], layers[static_cast<size_t>(up - 1)]);
    if (remove >= 0) layers.erase(layers.begin() + remove);
    if (ImGui::Button("+ Dense")) layers.push_back({LayerKind::dense, 32, 3, Activation::relu});
    ImGui::SameLine();
    if (ImGui::Button("+ Conv")) layers.push_back({LayerKind::conv2d, 8, 3, Activation::relu});
    ImGui::SameLine();
    if (ImGui::Button("+ Dropout")) layers.push_back({LayerKind::dropout, 20, 3, Activation::none});
    ImGui::EndDisabled();
}

}  // namespace

void draw_train_panel(App& app) {
    auto& t = app.train;
    auto& c = t.config;
    bool locked = t.state == RunState::running || t.state == RunState::paused;
    ImGui::BeginChild("config", ImVec2(S(400), 0), true);
    section("Dataset");
    ImGui::BeginDisabled(locked);
    if (!app.data.datasets.empty()) {
        c.dataset = std::clamp(c.dataset, 0, static_cast<int>(app.data.datasets.size()) - 1);
        ImGui::SetNextItemWidth(-1);
        if (ImGui::BeginCombo("##dataset", app.data.datasets[static_cast<size_t>(c.dataset)].name.c_str())) {
            for (int i = 0; i < static_cast<int>(app.data.datasets.size()); ++i)
                if (ImGui::Selectable(app.data.datasets[static_cast<size_t>(i)].name.c_str(), i == c.dataset)) c.dataset = i;
            ImGui::EndCombo();
        }
    }
    ImGui::EndDisabled();
    section("Architecture");
    architecture_editor(app);
    section("Optimizer");
    ImGui::BeginDisabled(locked);
    ImGui::PushItemWidth(S(150));
    enum_combo("optimizer", c.optimizer, optimizer_name);
    ImGui::InputFloat("learning rate", &c.learning_rate, 0, 0, "%.4g");
    c.learning_rate = std::clamp(c.learning_rate, 1e-6f, 10.0f);
    if (c.optimizer == Optimizer::momentum) ImGui::SliderFloat("momentum", &c.momentum, 0.0f, 0.99f, "%.2f");
    ImGui::InputFloat("weight decay", &c.weight_decay, 0, 0, "%.4g");
    if (ImGui::InputInt("batch size", &c.batch_size)) c.batch_size = std::clamp(c.batch_size, 1, 4096);
    if (ImGui::InputInt("epochs", &c.epochs)) c.epochs = std::clamp(c.epochs, 1, 1000);
    if (ImGui::InputInt("seed", &c.seed)) c.seed = std::max(0, c.seed);
    ImGui::Checkbox("early stopping", &c.early_stopping);
    ImGui::PopItemWidth();
    ImGui::EndDisabled();
    ImGui::EndChild();

    ImGui::SameLine();
    ImGui::BeginChild("run", ImVec2(0, 0), true);
    section("Run");
    const char* start_label = t.state == RunState::paused ? "Resume (Space)" : "Start (Space)";
    ImGui::BeginDisabled(t.state == RunState::running);
    if (ImGui::Button(start_label)) train_start(app);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(t.state != RunState::running);
    if (ImGui::Button("Pause (Space)")) train_pause(app);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!locked);
    if (ImGui::Button("Stop (X)")) train_stop(app);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::SetNextItemWidth(S(120));
    ImGui::SliderInt("batches/frame", &t.batches_per_frame, 1, 64);
    help_marker("Training runs a few batches per frame so the dashboard stays responsive. More batches per frame "
                "finish sooner; fewer keep the frame rate up.");
    job_progress(t.job);
    probe_last_item(app, "train.progress");
    const int epochs_done = static_cast<int>(t.curves.val_acc.size());
    if (t.state == RunState::done) ImGui::Text("%d / %d epochs", epochs_done, c.epochs);
    else ImGui::Text("epoch %d / %d   step %d / %d", std::min(t.epoch + 1, c.epochs), c.epochs, t.step, t.steps_per_epoch);
    if (epochs_done > 0) {
        // Once early stopping has put its best epoch's weights back, that epoch's score is the model's.
        const bool kept = t.kept_epoch > 0 && t.kept_epoch <= epochs_done;
        ImGui::SameLine(0, S(24));
        if (kept) ImGui::TextColored(kGood, "val accuracy %.3f (epoch %d, kept)", t.curves.val_acc[static_cast<size_t>(t.kept_epoch - 1)], t.kept_epoch);
        else ImGui::TextColored(kGood, "val accuracy %.3f", t.curves.val_acc.back());
    }
    if (!t.message.empty()) {  // wrapped: it names the kept epoch or the core's advice, both worth reading whole
        ImGui::PushStyleColor(ImGuiCol_Text, kDim);
        ImGui::TextWrapped("%s", t.message.c_str());
        ImGui::PopStyleColor();
    }
    float h = std::max(S(140), (ImGui::GetContentRegionAvail().y - S(8)) / 2);
    plot(app, "train.loss_plot", "Loss",
         {{"train", &t.curves.train_loss, class_rgb(0)}, {"validation", &t.curves.val_loss, class_rgb(1)}}, ImVec2(0, h),
         0, 0, 0, t.curves.best_epoch);
    plot(app, "train.acc_plot", "Accuracy",
         {{"train", &t.curves.train_acc, class_rgb(0)}, {"validation", &t.curves.val_acc, class_rgb(1)}}, ImVec2(0, h), 0, 1,
         0, t.curves.best_epoch);
    ImGui::EndChild();
}

//-----------------------------------------------------------------------------
// [SECTION] Registry panel
//-----------------------------------------------------------------------------

namespace {

// "v3  0.968" (its accuracy; "-" for a model without one, e.g. a regression): a lineage row's text before its aliases.
std::string lineage_label(const VersionInfo& v) {
    char label[64];
    if (!v.damage.empty() || v.loading || !v.metrics.count("accuracy"))
        std::snprintf(label, sizeof label, "v%d  %s", v.number, !v.damage.empty() ? "damaged" : v.loading ? "loading" : "-");
    else
        std::snprintf(label, sizeof label, "v%d  %.3f", v.number, v.metrics.at("accuracy"));
    return label;
}

// right_edge: the rightmost x any row reached (for the layout check in the tests).
void lineage_node(ModelInfo& m, const VersionInfo& v, int& selected, float& right_edge) {
    bool has_children = std::any_of(m.versions.begin(), m.versions.end(), [&](auto& x) { return x.parent == v.number; });
    ImGuiTreeNodeFlags f = ImGuiTreeNodeFlags_DefaultOpen | ImGuiTreeNodeFlags_OpenOnArrow | ImGuiTreeNodeFlags_SpanAvailWidth;
    if (!has_children) f |= ImGuiTreeNodeFlags_Leaf;
    if (selected == v.number) f |= ImGuiTreeNodeFlags_Selected;
    bool open = ImGui::TreeNodeEx(reinterpret_cast<void*>(static_cast<intptr_t>(v.number)), f, "%s", lineage_label(v).c_str());
    if (ImGui::IsItemClicked()) selected = v.number;
    for (auto& a : v.aliases) {
        ImGui::SameLine(0, 0);
        ImGui::TextColored(a == "production" ? kGood : kWarn, " @%s", a.c_str());
    }
    right_edge = std::max(right_edge, ImGui::GetItemRectMax().x);
    if (open) {
        for (auto& c : m.versions)
            if (c.parent == v.number) lineage_node(m, c, selected, right_edge);
        ImGui::TreePop();
    }
}

// One line of text cut to the space left in the column, with "..." and the whole text as a tooltip when it is cut
// (hyper-parameters such as an architecture's JSON run far past their column).
void text_fitted(const std::string& text) {
    const float avail = ImGui::GetContentRegionAvail().x;
    if (ImGui::CalcTextSize(text.c_str()).x <= avail) return ImGui::TextUnformatted(text.c_str());
    const float dots = ImGui::CalcTextSize("...").x;
    size_t lo = 0, hi = text.size();  // the longest prefix that fits with the dots
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if (ImGui::CalcTextSize(text.c_str(), text.c_str() + mid).x + dots <= avail) lo = mid;
        else hi = mid - 1;
    }
    while (lo > 0 && (static_cast<unsigned char>(text[lo]) & 0xC0) == 0x80) --lo;  // not inside a UTF-8 character
    ImGui::Text("%.*s...", static_cast<int>(lo), text.c_str());
    if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 40);
        ImGui::TextUnformatted(text.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
}

// Width the lineage column needs so no row (indent + label + every alias) is clipped.
float lineage_width(const ModelInfo& m) {
    const ImGuiStyle& st = ImGui::GetStyle();
    float widest = 0;
    for (auto& v : m.versions) {
        int depth = 0;  // bounded by the version count, in case stored parents form a cycle
        for (const VersionInfo* p = &v; p->parent && depth < int(m.versions.size()); ++depth)
            if (!(p = m.find(p->parent))) break;
        float w = depth * st.IndentSpacing + ImGui::GetTreeNodeToLabelSpacing() + ImGui::CalcTextSize(lineage_label(v).c_str()).x;
        for (auto& a : v.aliases) w += ImGui::CalcTextSize((" @" + a).c_str()).x;
        widest = std::max(widest, w);
    }
    return widest + 2 * st.WindowPadding.x + st.ScrollbarSize;
}

// Alias history as a timeline: one lane per alias, a dot per event, the version number above it.
void alias_timeline(App& app, const ModelInfo& m) {
    std::vector<std::string> lanes;
    for (auto& e : m.alias_history)
        if (std::find(lanes.begin(), lanes.end(), e.alias) == lanes.end()) lanes.push_back(e.alias);
    float lane_h = S(34), label_w = S(90);
    ImVec2 p0 = ImGui::GetCursorScreenPos();
    float w = ImGui::GetContentRegionAvail().x;
    ImGui::Dummy(ImVec2(w, lane_h * std::max<size_t>(1, lanes.size()) + S(4)));
    probe(app, "registry.timeline", p0, ImVec2(p0.x + w, p0.y + lane_h * lanes.size()));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    size_t n = m.alias_history.size();
    for (size_t l = 0; l < lanes.size(); ++l) {
        float y = p0.y + lane_h * (l + 0.6f);
        dl->AddText(ImVec2(p0.x, y - S(8)), IM_COL32(200, 205, 212, 255), lanes[l].c_str());
        dl->AddLine(ImVec2(p0.x + label_w, y), ImVec2(p0.x + w - S(10), y), IM_COL32(80, 86, 96, 255), S(1));
    }
    for (size_t i = 0; i < n; ++i) {
        auto& e = m.alias_history[i];
        size_t l = static_cast<size_t>(std::find(lanes.begin(), lanes.end(), e.alias) - lanes.begin());
        float x = p0.x + label_w + S(12) + (w - label_w - S(34)) * (n > 1 ? static_cast<float>(i) / (n - 1) : 0.5f);
        float y = p0.y + lane_h * (l + 0.6f);
        auto col = e.action == "rollback" ? std::array<uint8_t, 3>{225, 87, 89} : class_rgb(static_cast<int>(l));
        dl->AddCircleFilled(ImVec2(x, y), S(5), to_u32(col));
        char t[16];
        std::snprintf(t, sizeof t, "v%d", e.version);
        dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(x - S(8), y - S(20)), IM_COL32(220, 224, 230, 255), t);
        ImVec2 mp = ImGui::GetIO().MousePos;
        if (std::fabs(mp.x - x) < S(7) && std::fabs(mp.y - y) < S(7))
            ImGui::SetTooltip("%s: %s -> v%d\n%s", e.action.c_str(), e.alias.c_str(), e.version, e.time.c_str());
    }
}

}  // namespace

void draw_registry_panel(App& app) {
    auto& r = app.registry;
    ModelInfo* m = selected_model(app);
    if (!m) {
        ImGui::TextDisabled("The registry is empty: train a model to create its first version.");
        return;
    }
    // Wide enough for the lineage rows, but the versions table keeps most of the panel; beyond that it scrolls.
    float left_w = std::clamp(lineage_width(*m), S(190), 0.3f * ImGui::GetContentRegionAvail().x);
    ImGui::BeginChild("models", ImVec2(left_w, 0), true, ImGuiWindowFlags_HorizontalScrollbar);
    section("Models");
    for (int i = 0; i < static_cast<int>(r.models.size()); ++i) {
        auto& mm = r.models[static_cast<size_t>(i)];
        char label[160];
        std::snprintf(label, sizeof label, "%s  (%zu)", mm.name.c_str(), mm.versions.size());
        if (ImGui::Selectable(label, i == r.selected_model)) r.selected_model = i, r.selected_version = 0;
    }
    section("Lineage");
    ImVec2 lineage0 = ImGui::GetCursorScreenPos();
    float right_edge = lineage0.x;
    for (auto& v : m->versions)
        if (!v.parent || !m->find(v.parent)) lineage_node(*m, v, r.selected_version, right_edge);
    probe(app, "registry.lineage", lineage0, ImVec2(right_edge, ImGui::GetCursorScreenPos().y));
    ImVec2 wp = ImGui::GetWindowPos(), ws = ImGui::GetWindowSize();
    probe(app, "registry.models", wp, ImVec2(wp.x + ws.x, wp.y + ws.y));
    ImGui::EndChild();

    ImGui::SameLine();
    ImGui::BeginChild("versions", ImVec2(0, 0), true);
    section("Versions");
    ImVec2 table0 = ImGui::GetCursorScreenPos();
    if (ImGui::BeginTable("versions", 8, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp)) {
        const char* cols[] = {"version", "created", "accuracy", "macro F1", "size", "hash", "aliases", "state"};
        float weights[] = {0.7f, 1.6f, 0.9f, 0.8f, 0.9f, 1.0f, 1.4f, 0.9f};
        for (int i = 0; i < 8; ++i) ImGui::TableSetupColumn(cols[i], ImGuiTableColumnFlags_WidthStretch, weights[i]);
        ImGui::TableHeadersRow();
        for (auto& v : m->versions) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            char id[16];
            std::snprintf(id, sizeof id, "v%d", v.number);
            if (ImGui::Selectable(id, r.selected_version == v.number, ImGuiSelectableFlags_SpanAllColumns)) r.selected_version = v.number;
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(v.created.c_str());
            ImGui::TableNextColumn();
            auto metric_cell = [&](const char* key) {  // "-" where a version did not record the metric
                if (v.metrics.count(key)) ImGui::Text("%.3f", v.metrics.at(key));
                else ImGui::TextDisabled("-");
            };
            metric_cell("accuracy");
            ImGui::TableNextColumn();
            metric_cell("macro_f1");
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt_bytes(v.size_bytes).c_str());
            ImGui::TableNextColumn();
            ImGui::TextDisabled("%.8s", v.hash.c_str());
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("sha256 %s", v.hash.c_str());
            ImGui::TableNextColumn();
            for (size_t a = 0; a < v.aliases.size(); ++a) {
                if (a) ImGui::SameLine();
                ImGui::TextColored(v.aliases[a] == "production" ? kGood : kWarn, "@%s", v.aliases[a].c_str());
            }
            ImGui::TableNextColumn();
            if (!v.damage.empty()) {
                ImGui::TextColored(kBad, "damaged");
                if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", v.damage.c_str());
            } else if (v.loading) {
                ImGui::TextDisabled("loading");
            } else if (v.archived) {
                ImGui::TextDisabled("archived");
            } else {
                ImGui::TextUnformatted("active");
            }
        }
        ImGui::EndTable();
    }
    probe(app, "registry.table", table0, ImVec2(table0.x + ImGui::GetContentRegionAvail().x, ImGui::GetCursorScreenPos().y));

    VersionInfo* v = m->find(r.selected_version);
    section(v ? ("Version v" + std::to_string(v->number)).c_str() : "Version");
    if (!v) {
        ImGui::TextDisabled("Select a version to see its details and actions.");
    } else {
        auto ask = [&](const char* action, const char* alias) {
            r.pending = {action, alias, v->number};
            r.confirm_open = true;
        };
        if (ImGui::Button("Promote to production")) ask("promote", "production");
        ImGui::SameLine();
        if (ImGui::Button("Promote to staging")) ask("promote", "staging");
        ImGui::SameLine();
        if (ImGui::Button("Roll back production")) ask("rollback", "production");
        ImGui::SameLine();
        if (ImGui::Button(v->archived ? "Unarchive" : "Archive")) ask(v->archived ? "unarchive" : "archive", "");
        ImGui::SameLine();
        ImGui::BeginDisabled(!r.store);
        if (ImGui::Button("Evaluate")) evaluate_version(app, v->number);
        ImGui::EndDisabled();
        ImGui::SameLine();
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.55f, 0.20f, 0.20f, 1.0f));
        if (ImGui::Button("Delete")) ask("delete", "");
        ImGui::PopStyleColor();

        if (!v->damage.empty()) {
            ImGui::PushTextWrapPos(0);
            ImGui::TextColored(kBad, "Cannot be loaded: %s", v->damage.c_str());
            ImGui::PopTextWrapPos();
        }
        if (ImGui::BeginTable("detail", 2, ImGuiTableFlags_SizingStretchSame)) {
            ImGui::TableNextColumn();
            ImGui::Text("parent: %s", v->parent ? ("v" + std::to_string(v->parent)).c_str() : "none (from scratch)");
            for (auto& [k, val] : v->hyper) text_fitted(k + ": " + val);
            ImGui::TableNextColumn();
            if (r.edit_version != v->number) {  // a new selection (or a refresh) starts from what is stored
                r.edit_version = v->number;
                r.edit_notes = v->notes;
                r.edit_tags = join_tags(v->tags);
            }
            bool dirty = r.edit_notes != v->notes || r.edit_tags != join_tags(v->tags);
            ImGui::SetNextItemWidth(-1);
            ImGui::InputTextWithHint("##tags", "tags, comma separated", &r.edit_tags);
            ImGui::InputTextMultiline("##notes", &r.edit_notes, ImVec2(-1, S(64)));
            ImGui::BeginDisabled(!dirty);
            if (ImGui::Button("Save notes and tags (Ctrl+Enter)") ||
                (dirty && ImGui::GetIO().KeyCtrl && ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)))) {
                r.pending = {"annotate", "", v->number};
                registry_apply(app);
            }
            ImGui::EndDisabled();
            if (dirty) {
                ImGui::SameLine();
                if (ImGui::Button("Revert")) r.edit_version = 0;
            }
            ImGui::EndTable();
        }
    }
    section("Alias history");
    alias_timeline(app, *m);
    if (!r.message.empty()) ImGui::TextDisabled("%s", r.message.c_str());
    ImGui::EndChild();

    if (r.confirm_open) {
        ImGui::OpenPopup("Confirm");
        r.confirm_open = false;
    }
    if (ImGui::IsPopupOpen("Confirm"))
        ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (ImGui::BeginPopupModal("Confirm", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
        auto& p = r.pending;
        if (p.action == "promote") ImGui::Text("Point '%s' of %s at v%d?", p.alias.c_str(), m->name.c_str(), p.version);
        else if (p.action == "rollback") ImGui::Text("Roll '%s' of %s back to its previous version?", p.alias.c_str(), m->name.c_str());
        else if (p.action == "delete") ImGui::Text("Delete %s v%d? This cannot be undone.", m->name.c_str(), p.version);
        else if (p.action == "unarchive") ImGui::Text("Show %s v%d in listings and @latest again?", m->name.c_str(), p.version);
        else ImGui::Text("Archive %s v%d? It stays loadable by number.", m->name.c_str(), p.version);
        ImGui::TextDisabled("The alias history keeps every change.");
        ImGui::Spacing();
        if (ImGui::Button("Confirm (Enter)", ImVec2(S(150), 0)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter))) {
            registry_apply(app);
            ImGui::CloseCurrentPopup();
        }
        ImGui::SameLine();
        if (ImGui::Button("Cancel (Esc)", ImVec2(S(150), 0)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
            r.pending = {};
            ImGui::CloseCurrentPopup();
        }
        ImGui::EndPopup();
    }
}

//-----------------------------------------------------------------------------
// [SECTION] Evaluate panel
//-----------------------------------------------------------------------------

void draw_evaluate_panel(App& app) {
    auto& e = app.eval;
    size_t n = e.confusion.size();
    if (!n) {
        ImGui::TextDisabled("Evaluate a version from the Registry panel.");
        return;
    }
    if (e.version > 0) ImGui::Text("%s v%d on %s", e.model.c_str(), e.version, e.scope.c_str());
    else ImGui::Text("%s on %s", e.model.c_str(), e.scope.c_str());
    float avail_h = ImGui::GetContentRegionAvail().y;
    float side = std::min(S(420), avail_h - S(40));
    ImGui::BeginChild("cm", ImVec2(side + S(70), 0), true);
    section("Confusion matrix (rows: true, columns: predicted)");
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImVec2 p = ImGui::GetCursorScreenPos();
    float label_w = S(26);
    float grid = std::min(side - label_w, ImGui::GetContentRegionAvail().x - label_w);
    float cell = grid / static_cast<float>(n);
    ImVec2 g0(p.x + label_w, p.y + S(18));
    ImGui::Dummy(ImVec2(grid + label_w, grid + S(22)));
    probe(app, "eval.heatmap", g0, ImVec2(g0.x + grid, g0.y + grid));
    for (size_t t = 0; t < n; ++t) {
        int64_t row_total = 0;
        for (auto v : e.confusion[t]) row_total += v;
        const char* name = t < e.class_names.size() ? e.class_names[t].c_str() : "?";
        dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(p.x, g0.y + cell * (t + 0.5f) - S(7)), IM_COL32(200, 205, 212, 255), name);
        dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(g0.x + cell * (t + 0.5f) - S(4), p.y), IM_COL32(200, 205, 212, 255), name);
        for (size_t c = 0; c < n; ++c) {
            float frac = row_total ? static_cast<float>(e.confusion[t][c]) / static_cast<float>(row_total) : 0.0f;
            ImVec2 a(g0.x + cell * c, g0.y + cell * t), b(a.x + cell - 1, a.y + cell - 1);
            dl->AddRectFilled(a, b, to_u32(heat_rgb(frac)));
            if (e.confusion[t][c] && cell > S(22)) {
                char num[16];
                std::snprintf(num, sizeof num, "%lld", static_cast<long long>(e.confusion[t][c]));
                ImVec2 ts = g_fonts.small->CalcTextSizeA(g_fonts.small->FontSize, 1e9f, 0, num);
                dl->AddText(g_fonts.small, g_fonts.small->FontSize, ImVec2(a.x + (cell - ts.x) / 2, a.y + (cell - ts.y) / 2),
                            frac > 0.6f ? IM_COL32(20, 20, 30, 255) : IM_COL32(235, 238, 242, 255), num);
            }
            ImVec2 mp = ImGui::GetIO().MousePos;
            if (mp.x >= a.x && mp.x < b.x && mp.y >= a.y && mp.y < b.y)
                ImGui::SetTooltip("true %s, predicted %s: %lld (%.1f%% of the row)", name,
                                  c < e.class_names.size() ? e.class_names[c].c_str() : "?", static_cast<long long>(e.confusion[t][c]), frac * 100);
        }
    }
    // Colour ramp legend.
    ImVec2 l0 = ImGui::GetCursorScreenPos();
    for (int i = 0; i < 64; ++i)
        dl->AddRectFilled(ImVec2(l0.x + label_w + grid * i / 64.0f, l0.y), ImVec2(l0.x + label_w + grid * (i + 1) / 64.0f + 1, l0.y + S(8)),
                          to_u32(heat_rgb(i / 63.0f)));
    ImGui::Dummy(ImVec2(grid, S(10)));
    ImGui::TextDisabled("share of the true class: 0%% to 100%%");
    ImGui::EndChild();

    ImGui::SameLine();
    ImGui::BeginChild("prf", ImVec2(0, 0), true);
    section("Per-class precision, recall, F1");
    float table_h = std::min(ImGui::GetContentRegionAvail().y * 0.5f, (n + 1.5f) * ImGui::GetFrameHeight());
    if (ImGui::BeginTable("prf", 5, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchSame, ImVec2(0, table_h))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        for (const char* h : {"class", "precision", "recall", "F1", "support"}) ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        for (size_t c = 0; c < n; ++c) {
            int64_t tp = e.confusion[c][c], fp = 0, fn = 0, support = 0;
            for (size_t k = 0; k < n; ++k) {
                support += e.confusion[c][k];
                if (k != c) fp += e.confusion[k][c], fn += e.confusion[c][k];
            }
            float prec = tp + fp ? static_cast<float>(tp) / (tp + fp) : 0, rec = tp + fn ? static_cast<float>(tp) / (tp + fn) : 0;
            float f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextColored(to_vec4(class_rgb(static_cast<int>(c))), "%s", c < e.class_names.size() ? e.class_names[c].c_str() : "?");
            for (float v : {prec, rec, f1}) {
                ImGui::TableNextColumn();
                ImGui::TextColored(v >= 0.9f ? kGood : v >= 0.75f ? kWarn : kBad, "%.3f", v);
            }
            ImGui::TableNextColumn();
            ImGui::Text("%lld", static_cast<long long>(support));
        }
        ImGui::EndTable();
    }
    section("ROC curves (one class vs. rest)");
    std::vector<Series> series;
    static std::vector<std::string> labels;
    labels.assign(e.roc.size(), "");
    for (size_t c = 0; c < e.roc.size(); ++c) {
        char l[64];
        std::snprintf(l, sizeof l, "%s %.3f", c < e.class_names.size() ? e.class_names[c].c_str() : "?", e.roc[c].auc);
        labels[c] = l;
    }
    // The legend of ten curves does not fit the title row: list AUCs under the plot instead.
    for (size_t c = 0; c < e.roc.size(); ++c) series.push_back({"", &e.roc[c].tpr, class_rgb(static_cast<int>(c)), false, &e.roc[c].fpr});
    static const std::vector<float> diag = {0, 1}, diag_x = {0, 1};
    series.push_back({"chance", &diag, {120, 124, 130}, true, &diag_x});
    float ph = std::max(S(150), ImGui::GetContentRegionAvail().y - 2 * ImGui::GetTextLineHeightWithSpacing() - S(8));
    plot(app, "eval.roc", "TPR vs FPR", series, ImVec2(0, ph), 0, 1, 1);
    ImGui::TextDisabled("AUC");
    float right = ImGui::GetWindowContentRegionMax().x;
    for (size_t c = 0; c < labels.size(); ++c) {
        ImGui::SameLine();
        float w = ImGui::CalcTextSize(labels[c].c_str()).x;
        if (ImGui::GetCursorPosX() + w > right) ImGui::NewLine();  // wrap the list
        ImGui::TextColored(to_vec4(class_rgb(static_cast<int>(c))), "%s", labels[c].c_str());
    }
    ImGui::EndChild();
}

//-----------------------------------------------------------------------------
// [SECTION] Compare panel
//-----------------------------------------------------------------------------

namespace {

bool version_combo(const char* label, const ModelInfo& m, int& number) {
    char cur[32];
    std::snprintf(cur, sizeof cur, "v%d", number);
    bool changed = false;
    if (ImGui::BeginCombo(label, cur)) {
        for (auto& v : m.versions) {
            char l[64];
            std::snprintf(l, sizeof l, "v%d%s%s", v.number, v.aliases.empty() ? "" : "  @", v.aliases.empty() ? "" : v.aliases[0].c_str());
            if (ImGui::Selectable(l, v.number == number)) number = v.number, changed = true;
        }
        ImGui::EndCombo();
    }
    return changed;
}

}  // namespace

void draw_compare_panel(App& app) {
    ModelInfo* m = selected_model(app);
    if (!m || m->versions.size() < 2) {
        ImGui::TextDisabled("Comparing needs a model with at least two versions.");
        return;
    }
    auto& c = app.compare;
    if (!m->find(c.a)) c.a = m->versions[0].number;
    if (!m->find(c.b)) c.b = m->versions.back().number;
    ImGui::Text("%s:", m->name.c_str());
    ImGui::SameLine();
    ImGui::SetNextItemWidth(S(140));
    version_combo("A", *m, c.a);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(S(140));
    version_combo("B", *m, c.b);
    ImGui::SameLine();
    if (ImGui::Button("Swap")) std::swap(c.a, c.b);
    const VersionInfo& a = *m->find(c.a);
    const VersionInfo& b = *m->find(c.b);
    auto ca = class_rgb(0), cb = class_rgb(1);
    for (const VersionInfo* v : {&a, &b})
        if (!v->damage.empty()) {
            ImGui::PushTextWrapPos(0);
            ImGui::TextColored(kBad, "v%d cannot be loaded: %s", v->number, v->damage.c_str());
            ImGui::PopTextWrapPos();
        }

    ImGui::BeginChild("tables", ImVec2(S(420), 0), true);
    section("Metrics");
    if (ImGui::BeginTable("metrics", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchSame)) {
        for (const char* h : {"metric", "A", "B", "B - A"}) ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        // Every metric either version recorded; "-" where one did not (not 0). Counts print as whole numbers.
        std::set<std::string> keys;
        for (const auto* v : {&a, &b})
            for (const auto& [k, x] : v->metrics) keys.insert(k);
        auto fmt = [](float x, bool sign) {
            char buf[32];
            const bool whole = x == std::round(x) && (std::fabs(x) >= 1 || x == 0);
            std::snprintf(buf, sizeof buf, whole ? (sign ? "%+.0f" : "%.0f") : (sign ? "%+.4f" : "%.4f"), static_cast<double>(x));
            return std::string(buf);
        };
        for (const std::string& k : keys) {
            const bool in_a = a.metrics.count(k) > 0, in_b = b.metrics.count(k) > 0;
            const float va = in_a ? a.metrics.at(k) : 0, vb = in_b ? b.metrics.at(k) : 0;
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            text_fitted(k);
            ImGui::TableNextColumn();
            if (in_a) ImGui::TextColored(to_vec4(ca), "%s", fmt(va, false).c_str());
            else ImGui::TextDisabled("-");
            ImGui::TableNextColumn();
            if (in_b) ImGui::TextColored(to_vec4(cb), "%s", fmt(vb, false).c_str());
            else ImGui::TextDisabled("-");
            ImGui::TableNextColumn();
            if (!in_a || !in_b) {
                ImGui::TextDisabled("-");
                continue;
            }
            const bool better = k.find("loss") != std::string::npos ? vb < va : vb > va;
            ImGui::TextColored(vb == va ? kDim : better ? kGood : kBad, "%s", fmt(vb - va, true).c_str());
        }
        ImGui::EndTable();
    }
    section("Hyper-parameters");
    if (ImGui::BeginTable("hyper", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchSame)) {
        for (const char* h : {"parameter", "A", "B"}) ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        std::map<std::string, int> keys;
        for (auto& [k, _] : a.hyper) keys[k] = 1;
        for (auto& [k, _] : b.hyper) keys[k] = 1;
        for (auto& [k, _] : keys) {
            std::string va = a.hyper.count(k) ? a.hyper.at(k) : "-", vb = b.hyper.count(k) ? b.hyper.at(k) : "-";
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(k.c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(va.c_str());
            ImGui::TableNextColumn();
            if (va != vb) ImGui::TextColored(kWarn, "%s", vb.c_str());
            else ImGui::TextDisabled("%s", vb.c_str());
        }
        ImGui::EndTable();
    }
    section("Per-layer weight distance  |B - A| / |A|");
    ImVec2 d0 = ImGui::GetCursorScreenPos();
    std::vector<float> dist;
    for (size_t l = 0; l < a.layer_weights.size() && l < b.layer_weights.size(); ++l) {
        const auto& wa = a.layer_weights[l];
        const auto& wb = b.layer_weights[l];
        if (wa.size() != wb.size()) {
            dist.push_back(-1);
            continue;
        }
        double num = 0, den = 0;
        for (size_t i = 0; i < wa.size(); ++i) num += (wb[i] - wa[i]) * double(wb[i] - wa[i]), den += wa[i] * double(wa[i]);
        dist.push_back(den > 0 ? static_cast<float>(std::sqrt(num / den)) : 0.0f);
    }
    float dmax = 1e-6f;
    for (float d : dist) dmax = std::max(dmax, d);
    for (size_t l = 0; l < dist.size(); ++l) {
        char v[32];
        if (dist[l] < 0) std::snprintf(v, sizeof v, "shape differs");
        else std::snprintf(v, sizeof v, "%.3f", dist[l]);
        hbar(l < a.layer_names.size() ? a.layer_names[l].c_str() : "?", dist[l] < 0 ? 0 : dist[l] / dmax, v, class_rgb(4), S(130));
    }
    if (dist.empty()) ImGui::TextDisabled("No weights to compare.");
    probe(app, "compare.distance", d0, ImVec2(d0.x + ImGui::GetContentRegionAvail().x, ImGui::GetCursorScreenPos().y));
    ImGui::EndChild();

    ImGui::SameLine();
    ImGui::BeginChild("curves", ImVec2(0, 0), true);
    section("Validation curves");
    float h = std::max(S(140), (ImGui::GetContentRegionAvail().y - S(8)) / 2);
    plot(app, "compare.acc", "Validation accuracy", {{"A", &a.curves.val_acc, ca}, {"B", &b.curves.val_acc, cb}}, ImVec2(0, h));
    plot(app, "compare.loss", "Validation loss", {{"A", &a.curves.val_loss, ca}, {"B", &b.curves.val_loss, cb}}, ImVec2(0, h));
    ImGui::EndChild();
}

//-----------------------------------------------------------------------------
// [SECTION] Playground panel
//-----------------------------------------------------------------------------

void draw_playground_panel(App& app) {
    auto& p = app.playground;
    if (p.canvas.size() != static_cast<size_t>(p.size) * p.size) playground_clear(app);
    ImGui::BeginChild("draw", ImVec2(S(460), 0), true);
    section("Draw a digit (left button draws, right button erases)");
    int size = p.size;
    if (ImGui::RadioButton("8 x 8", size == 8)) size = 8;
    ImGui::SameLine();
    if (ImGui::RadioButton("28 x 28", size == 28)) size = 28;
    ImGui::SameLine();
    if (size != p.size) {
        p.size = size;
        playground_clear(app);
    }
    if (ImGui::Button("Clear (C)")) playground_clear(app);
    float side = std::min(ImGui::GetContentRegionAvail().x, ImGui::GetContentRegionAvail().y - S(60));
    side = std::max(side, S(120));
    ImVec2 c0 = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("canvas", ImVec2(side, side), ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
    probe(app, "playground.canvas", c0, ImVec2(c0.x + side, c0.y + side));
    float cell = side / p.size;
    if (ImGui::IsItemActive()) {
        ImVec2 mp = ImGui::GetIO().MousePos;
        bool erase = ImGui::IsMouseDown(ImGuiMouseButton_Right);
        // A soft round brush about a tenth of the canvas wide, so strokes look like the training images.
        float r = std::max(0.6f, p.size * 0.07f) * p.brush;
        float gx = (mp.x - c0.x) / cell, gy = (mp.y - c0.y) / cell;
        bool changed = false;
        for (int y = 0; y < p.size; ++y)
            for (int x = 0; x < p.size; ++x) {
                float d = std::hypot(x + 0.5f - gx, y + 0.5f - gy);
                if (d > r + 0.7f) continue;
                float amount = std::clamp(r + 0.7f - d, 0.0f, 1.0f);
                float& v = p.canvas[static_cast<size_t>(y) * p.size + x];
                float nv = erase ? std::max(0.0f, v - amount) : std::min(1.0f, v + amount);
                changed |= nv != v;
                v = nv;
            }
        if (changed) playground_predict(app);
    }
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(c0, ImVec2(c0.x + side, c0.y + side), IM_COL32(0, 0, 0, 255));
    for (int y = 0; y < p.size; ++y)
        for (int x = 0; x < p.size; ++x) {
            float v = p.canvas[static_cast<size_t>(y) * p.size + x];
            if (v <= 0.01f) continue;
            auto g = static_cast<int>(v * 255);
            dl->AddRectFilled(ImVec2(c0.x + x * cell, c0.y + y * cell), ImVec2(c0.x + (x + 1) * cell, c0.y + (y + 1) * cell), IM_COL32(g, g, g, 255));
        }
    if (p.size <= 8)
        for (int i = 1; i < p.size; ++i) {
            dl->AddLine(ImVec2(c0.x + i * cell, c0.y), ImVec2(c0.x + i * cell, c0.y + side), IM_COL32(255, 255, 255, 22));
            dl->AddLine(ImVec2(c0.x, c0.y + i * cell), ImVec2(c0.x + side, c0.y + i * cell), IM_COL32(255, 255, 255, 22));
        }
    dl->AddRect(c0, ImVec2(c0.x + side, c0.y + side), IM_COL32(90, 96, 106, 255));
    ImGui::SetNextItemWidth(S(160));
    ImGui::SliderFloat("brush", &p.brush, 0.5f, 2.0f, "%.1f");
    ImGui::EndChild();

    ImGui::SameLine();
    ImGui::BeginChild("predict", ImVec2(0, 0), true);
    section("Model");
    if (ModelInfo* m = selected_model(app)) {
        if (ImGui::RadioButton("production", p.use_production)) p.use_production = true, playground_predict(app);
        ImGui::SameLine();
        if (ImGui::RadioButton("version", !p.use_production)) p.use_production = false, playground_predict(app);
        ImGui::SameLine();
        ImGui::BeginDisabled(p.use_production);
        ImGui::SetNextItemWidth(S(140));
        if (!m->find(p.version) && !m->versions.empty()) p.version = m->versions.back().number;
        if (version_combo("##ver", *m, p.version)) playground_predict(app);
        ImGui::EndDisabled();
        int prod = m->alias_target("production");
        ImGui::TextDisabled("%s %s", m->name.c_str(), p.use_production ? (prod ? ("v" + std::to_string(prod) + " (production)").c_str() : "has no production version") : ("v" + std::to_string(p.version)).c_str());
    }
    ImGui::TextColored(p.model ? kGood : kWarn, "Scoring with %s", p.source.c_str());
    section("Class probabilities (live)");
    if (p.probs.size() != p.class_names.size()) playground_predict(app);
    int best = p.probs.empty() ? -1 : static_cast<int>(std::max_element(p.probs.begin(), p.probs.end()) - p.probs.begin());
    ImVec2 b0 = ImGui::GetCursorScreenPos();
    for (size_t c = 0; c < p.probs.size(); ++c) {
        char v[16];
        std::snprintf(v, sizeof v, "%5.1f%%", p.probs[c] * 100);
        hbar(p.class_names[c].c_str(), p.probs[c], v, static_cast<int>(c) == best ? std::array<uint8_t, 3>{89, 161, 79} : std::array<uint8_t, 3>{78, 121, 167}, S(40));
    }
    probe(app, "playground.probs", b0, ImVec2(b0.x + ImGui::GetContentRegionAvail().x, ImGui::GetCursorScreenPos().y));
    if (best >= 0) {
        ImGui::Spacing();
        ImGui::PushFont(g_fonts.title);
        ImGui::Text("Prediction: %s", p.class_names[static_cast<size_t>(best)].c_str());
        ImGui::PopFont();
    }
    ImGui::EndChild();
}

//-----------------------------------------------------------------------------
// [SECTION] Storage panel
//-----------------------------------------------------------------------------

namespace {

// Wrapped, so a long error (which file, which byte) is read in full; failures in the error colour.
void storage_message(const std::string& msg) {
    if (msg.empty()) return;
    bool failed = msg.find("failed") != std::string::npos || msg.rfind("Not saved", 0) == 0;
    ImGui::PushStyleColor(ImGuiCol_Text, failed ? kBad : ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("%s", msg.c_str());
    ImGui::PopStyleColor();
}

}  // namespace

void draw_storage_panel(App& app) {
    auto& s = app.storage;
    ImGui::BeginChild("usage", ImVec2(S(460), 0), true);
    section("Usage");
    ImGui::Text("Backend: %s", s.backend.c_str());
    float frac = s.quota_bytes > 0 ? static_cast<float>(s.used_bytes) / static_cast<float>(s.quota_bytes) : 0.0f;
    ImVec2 q0 = ImGui::GetCursorScreenPos();
    float w = ImGui::GetContentRegionAvail().x, h = S(26);
    ImGui::Dummy(ImVec2(w, h));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(q0, ImVec2(q0.x + w, q0.y + h), IM_COL32(40, 44, 52, 255), S(3));
    ImU32 fill = frac < 0.7f ? IM_COL32(89, 161, 79, 255) : frac < 0.9f ? IM_COL32(237, 201, 72, 255) : IM_COL32(225, 87, 89, 255);
    dl->AddRectFilled(q0, ImVec2(q0.x + w * std::min(frac, 1.0f), q0.y + h), fill, S(3));
    probe(app, "storage.quota", q0, ImVec2(q0.x + w, q0.y + h));
    ImGui::Text("%s used of %s (%.0f%%)", fmt_bytes(s.used_bytes).c_str(), s.quota_bytes ? fmt_bytes(s.quota_bytes).c_str() : "unknown", frac * 100);
    if (frac >= 0.9f) ImGui::TextColored(kBad, "Nearly full: archive or delete old versions, or export them.");

    section("Export / import");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputText("##path", &s.export_path);
    ImGui::BeginDisabled(s.transfer.running);
    if (ImGui::Button("Export (E)")) storage_export_start(app);
    ImGui::SameLine();
    if (ImGui::Button("Import")) storage_import_start(app);
    ImGui::EndDisabled();
    if (s.transfer.running || s.transfer.progress > 0) job_progress(s.transfer);
    storage_message(s.message);
    ImGui::EndChild();

    ImGui::SameLine();
    ImGui::BeginChild("integrity", ImVec2(0, 0), true);
    section("Integrity");
    ImGui::BeginDisabled(s.check.running);
    if (ImGui::Button("Check every version (I)")) storage_check_start(app);
    ImGui::EndDisabled();
    ImGui::SameLine();
    job_progress(s.check);
    if (ImGui::BeginTable("integrity", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchSame)) {
        ImGui::TableSetupScrollFreeze(0, 1);
        for (const char* h : {"model", "version", "status"}) ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        for (auto& row : s.integrity) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(row.model.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("v%d", row.version);
            ImGui::TableNextColumn();
            if (row.status == "ok") ImGui::TextColored(kGood, "ok (hashes match)");
            else if (row.status == "pending") ImGui::TextColored(kWarn, "checking...");
            else if (row.status == "not checked") ImGui::TextDisabled("not checked");
            else ImGui::TextColored(kBad, "%s", row.status.c_str());
        }
        ImGui::EndTable();
    }
    ImGui::EndChild();
}

//-----------------------------------------------------------------------------
// [SECTION] Frame (layout, navigation, shortcuts, help)
//-----------------------------------------------------------------------------

namespace {

void shortcuts(App& app) {
    ImGuiIO& io = ImGui::GetIO();
    if (io.WantTextInput || ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId)) return;
    if (io.KeyCtrl || io.KeyAlt || io.KeySuper) return;  // leave browser and window-manager shortcuts alone
    // GLFW key codes for digits and letters are their ASCII codes (both natively and in Emscripten's GLFW).
    auto pressed = [&](int key) {
        return std::find(app.pressed_keys.begin(), app.pressed_keys.end(), key) != app.pressed_keys.end();
    };
    for (int i = 0; i < static_cast<int>(Panel::count); ++i)
        if (pressed('1' + i)) app.panel = static_cast<Panel>(i);
    if (pressed('H')) app.show_help = !app.show_help;
    if (app.panel == Panel::train) {
        if (pressed(' '))
            app.train.state == RunState::running ? train_pause(app) : train_start(app);
        if (pressed('X')) train_stop(app);
    }
    if (app.panel == Panel::playground && pressed('C')) playground_clear(app);
    if (app.panel == Panel::storage) {
        if (pressed('I') && !app.storage.check.running) storage_check_start(app);
        if (pressed('E') && !app.storage.transfer.running) storage_export_start(app);
    }
}

void help_window(App& app) {
    if (!app.show_help) return;
    ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Always, ImVec2(0.5f, 0.5f));
    ImGui::Begin("Keyboard shortcuts", &app.show_help, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse);
    static const char* rows[][2] = {{"1 - 7", "switch panel"}, {"Space", "start / pause training (Train)"}, {"X", "stop training (Train)"},
                                    {"C", "clear the canvas (Playground)"}, {"I", "check integrity (Storage)"},
                                    {"E", "export (Storage)"}, {"Ctrl+Enter", "save notes and tags (Registry)"},
                                    {"Enter / Esc", "confirm / cancel a dialog"}, {"H", "this help"}};
    if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg)) {
        for (auto& r : rows) {
            ImGui::TableNextColumn();
            ImGui::TextColored(kAccent, "%s", r[0]);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(r[1]);
        }
        ImGui::EndTable();
    }
    ImGui::End();
}

}  // namespace

void dashboard_draw(App& app) {
    app.probes.clear();
    shortcuts(app);
    app.pressed_keys.clear();
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(vp->WorkPos);
    ImGui::SetNextWindowSize(vp->WorkSize);
    ImGui::Begin("Cairn", nullptr, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                                       ImGuiWindowFlags_NoBringToFrontOnFocus);
    // Header: name, current panel, the running jobs.
    ImGui::PushFont(g_fonts.title);
    ImGui::TextColored(kAccent, "Cairn");
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("model manager");
    const Job* jobs[] = {&app.train.job, &app.storage.check, &app.storage.transfer};
    float jx = ImGui::GetWindowContentRegionMax().x - S(320);
    for (const Job* j : jobs)
        if (j->running) {
            ImGui::SameLine(jx);
            job_progress(*j, S(260));
            break;
        }
    ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - S(50));
    if (ImGui::SmallButton("? H")) app.show_help = !app.show_help;
    ImGui::Separator();

    float status_h = ImGui::GetTextLineHeightWithSpacing() + S(4);
    float body_h = ImGui::GetContentRegionAvail().y - status_h;
    // Navigation.
    ImGui::BeginChild("nav", ImVec2(S(170), body_h), true);
    for (int i = 0; i < static_cast<int>(Panel::count); ++i) {
        char label[64];
        std::snprintf(label, sizeof label, "%d  %s", i + 1, panel_name(static_cast<Panel>(i)));
        if (ImGui::Selectable(label, app.panel == static_cast<Panel>(i), 0, ImVec2(0, S(30)))) app.panel = static_cast<Panel>(i);
    }
    ImGui::EndChild();
    ImGui::SameLine();
    // Content: the panel's title, then the panel.
    // Panels fill this exactly and scroll inside their own children.
    ImGui::BeginChild("content", ImVec2(0, body_h), false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    ImVec2 t0 = ImGui::GetCursorScreenPos();
    ImGui::PushFont(g_fonts.title);
    ImGui::TextUnformatted(panel_name(app.panel));
    ImGui::PopFont();
    probe(app, "title", t0, ImGui::GetItemRectMax());
    ImVec2 c0 = ImGui::GetCursorScreenPos();
    switch (app.panel) {
        case Panel::data: draw_data_panel(app); break;
        case Panel::train: draw_train_panel(app); break;
        case Panel::registry: draw_registry_panel(app); break;
        case Panel::evaluate: draw_evaluate_panel(app); break;
        case Panel::compare: draw_compare_panel(app); break;
        case Panel::playground: draw_playground_panel(app); break;
        case Panel::storage: draw_storage_panel(app); break;
        case Panel::count: break;
    }
    ImVec2 avail = ImGui::GetWindowPos();
    probe(app, "content", c0, ImVec2(avail.x + ImGui::GetWindowSize().x, avail.y + ImGui::GetWindowSize().y));
    ImGui::EndChild();
    // Status bar: the latest message and what is running.
    ImGui::Separator();
    const std::string& msg = !app.train.message.empty() ? app.train.message : app.registry.message;
    ImGui::TextDisabled("%s", msg.empty() ? "Ready. Press H for keyboard shortcuts." : msg.c_str());
    ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - S(200));
    ImGui::TextDisabled("%.0f fps, scale %.2g", ImGui::GetIO().Framerate, app.ui_scale);
    ImGui::End();
    help_window(app);
}

}  // namespace cairn::shell

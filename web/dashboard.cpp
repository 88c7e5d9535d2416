// The page's dashboard app: the shell drawn with WebGL2 into the page's canvas (web/index.html), its registry on the
// same IndexedDB database as the JS API (`Cairn.open({db})`, default "cairn"), so versions registered here are seen
// there, survive reloads, and versions registered by the JS API or another tab show up here.
//
// Index
//   [SECTION] Sync        planners kept until IndexedDB has their batches; re-planned after a conflict or reload
//   [SECTION] Host calls  EM_JS call-outs to web/dashboard_host.mjs and the KEEPALIVE callbacks it answers with
//   [SECTION] Test hooks  widget rectangles and a status summary, for tests driving the page (tests/browser)
//   [SECTION] Main
//
// How a change reaches IndexedDB: the engine plans it against the MirrorStore (web/mirror_store.h) and commits it
// there at once, so the panels show it in the same frame; RegistryState::on_commit hands us the planner. We ask the
// host to commit; the host runs Cairn.mutate (web/cairn.mjs, the JS API's own commit path) with a function that
// re-plans every kept planner against the mirror (cairn_dashboard_replan): Cairn commits the batches in one
// IndexedDB transaction each, and on a conflict with another tab reloads the mirror and calls it again. When it
// resolves the host reports how many batches were written (cairn_dashboard_committed) and we drop those planners.
// The browser owns the frame loop, so main() returns after installing it.
#include <emscripten.h>
#include <emscripten/bind.h>
#include <emscripten/html5.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.h"
#include "core/store.h"
#include "shell/app.h"
#include "shell/engine.h"
#include "shell/platform.h"
#include "shell/widget_map.h"
#include "web/mirror_store.h"

namespace cairn::web {

using shell::App;
using shell::Planner;

namespace {

App& app() {
    static App a = shell::make_app();
    return a;
}

//------------------------------------------------------------------------------
// [SECTION] Sync
//------------------------------------------------------------------------------
struct Sync {
    // One planner per batch queued in the mirror and not yet in IndexedDB, in the same order, with the result the
    // panels were told about.
    struct Kept {
        Planner plan;
        std::string result;
    };
    std::vector<Kept> planners;
    size_t seen_commits = 0;  // mirror().commit_count() when we last looked
    bool commit_requested = false, fetch_requested = false;
    std::string reply;  // the last string handed to JS (valid until the next call)
};
Sync& sync() {
    static Sync s;
    return s;
}

// Undoes what the mirror holds of the kept planners and plans each again against the mirror as it is now. A
// planner that no longer applies (another tab deleted its version, ...) is dropped with a message; one that now
// changes nothing is dropped silently. Returns the keys to fetch when a planner read a value not loaded yet.
std::string replan() {
    MirrorStore& m = mirror();
    m.rollback();
    auto& planners = sync().planners;
    for (size_t i = 0; i < planners.size();) {
        size_t before = m.pending_count();
        try {
            std::string result = commit_plan(m, planners[i].plan).dump();
            if (result != planners[i].result) {
                // Planned differently now (another tab registered or moved an alias first): say what it will be.
                Json r = Json::parse(result);
                if (r.contains("version") && r.contains("model") && !r.contains("alias"))
                    app().train.message = "Registered " + r["model"].get<std::string>() + "/" + std::to_string(r["version"].get<int64_t>()) +
                                          " (another tab changed the registry first)";
                else
                    app().registry.message = "Applied after another tab changed the registry: " + result;
                planners[i].result = result;
            }
        } catch (const NeedFetch& e) {
            m.rollback();
            sync().seen_commits = m.commit_count();
            std::string keys;
            for (const std::string& k : e.keys) keys += (keys.empty() ? "" : "\n") + k;
            return keys;
        } catch (const std::exception& e) {
            app().registry.message = std::string("A change could not be applied after another tab changed the registry: ") + e.what();
            planners.erase(planners.begin() + static_cast<std::ptrdiff_t>(i));
            continue;
        }
        if (m.pending_count() == before) planners.erase(planners.begin() + static_cast<std::ptrdiff_t>(i));
        else ++i;
    }
    sync().seen_commits = m.commit_count();
    return {};
}

// The panels read app().registry, a snapshot: rebuild it from the mirror. Values not loaded yet show as damaged
// versions for a moment; the sync tick fetches them and refreshes again.
void refresh() {
    try {
        shell::registry_refresh(app());
        shell::playground_predict(app());  // the production model may have changed, or its weights just arrived
        shell::evaluate_waiting(app());    // an Evaluate click that was waiting for these values
    } catch (const std::exception& e) {
        app().registry.message = std::string("Registry: ") + e.what();
    }
    // Integrity rows that failed only because a value was not loaded yet: check them again.
    auto& s = app().storage;
    bool again = false;
    for (auto& row : s.integrity)
        if (shell::store_still_loading(row.status)) row.status = "pending", again = true;
    if (again && !s.check.running) s.check = {"Checking integrity", 0.0f, 0.0, true};
}

}  // namespace

//------------------------------------------------------------------------------
// [SECTION] Host calls
//------------------------------------------------------------------------------
// Call-outs: the host queues the work and answers through the callbacks below (never re-entrantly).
EM_JS(void, host_request_commit, (), { if (Module.cairnHost) Module.cairnHost.commit(); });
EM_JS(void, host_request_fetch, (), { if (Module.cairnHost) Module.cairnHost.fetch(); });
EM_JS(void, host_save_file, (const uint8_t* data, int size, const char* name),
      { Module.cairnHost ? Module.cairnHost.save(HEAPU8.slice(data, data + size), UTF8ToString(name))
                         : console.error('dashboard: no host to save ' + UTF8ToString(name)); });
EM_JS(void, host_open_file, (), { if (Module.cairnHost) Module.cairnHost.open(); });
EM_JS(void, host_open_csv, (), { if (Module.cairnHost) Module.cairnHost.openCsv(); });

namespace {

void request_commit() {
    if (sync().planners.empty() || sync().commit_requested) return;
    sync().commit_requested = true;
    host_request_commit();
}

// Every animation frame (alongside the shell's own loop): values a read missed are fetched, then reads run again.
EM_BOOL sync_tick(double, void*) {
    shell::widget_map_enable(true);  // the ImGui context exists once the shell's loop has started
    if (!sync().fetch_requested && mirror().has_missing()) {
        sync().fetch_requested = true;
        host_request_fetch();
    }
    return EM_TRUE;
}

}  // namespace

extern "C" {

// Inside Cairn.mutate: plan every kept change again. {"batches": n} queued in the mirror, or {"need_fetch": keys}.
EMSCRIPTEN_KEEPALIVE const char* cairn_dashboard_replan() {
    std::string keys = replan();
    Json r = keys.empty() ? Json{{"batches", mirror().pending_count()}} : Json{{"need_fetch", keys}};
    return (sync().reply = r.dump()).c_str();
}

// Inside Cairn.read: the keys reads missed since the last call ("" when none); the mirror's queued batches are
// dropped first (the planners are kept and planned again once the values are there).
EMSCRIPTEN_KEEPALIVE const char* cairn_dashboard_missing() {
    mirror().rollback();
    std::string keys;
    for (const std::string& k : mirror().take_missing()) keys += (keys.empty() ? "" : "\n") + k;
    return (sync().reply = keys).c_str();
}

// IndexedDB has the first n batches (Cairn.mutate resolved): their planners are done.
EMSCRIPTEN_KEEPALIVE void cairn_dashboard_committed(int n) {
    auto& s = sync();
    s.commit_requested = false;
    s.planners.erase(s.planners.begin(), s.planners.begin() + std::min<std::ptrdiff_t>(n, static_cast<std::ptrdiff_t>(s.planners.size())));
    refresh();
    request_commit();
}

// Writing the first n batches failed (quota, I/O, conflicts that never settled): nothing of them was written.
EMSCRIPTEN_KEEPALIVE void cairn_dashboard_failed(int n, const char* message) {
    auto& s = sync();
    s.commit_requested = false;
    s.planners.erase(s.planners.begin(), s.planners.begin() + std::min<std::ptrdiff_t>(n, static_cast<std::ptrdiff_t>(s.planners.size())));
    app().registry.message = app().storage.message = std::string("Not saved: ") + message;
    if (replan().empty()) refresh();
    request_commit();
}

// The mirror was (re)loaded from IndexedDB or values were fetched: show the registry as it is now, with the changes
// still on their way to IndexedDB planned on top.
EMSCRIPTEN_KEEPALIVE void cairn_dashboard_reloaded() {
    sync().fetch_requested = false;
    replan();  // a miss is recorded in the mirror: the sync tick fetches it
    refresh();
    request_commit();
}

EMSCRIPTEN_KEEPALIVE void cairn_dashboard_quota(double quota_bytes) {
    app().storage.quota_bytes = static_cast<int64_t>(quota_bytes);
}

}  // extern "C"

// A file the user picked for import (Storage panel): the bytes, then the planner, go the usual way.
static void import_file(const emscripten::val& bytes, const std::string& name) {
    shell::storage_import_bytes(app(), emscripten::convertJSArrayToNumberVector<uint8_t>(bytes), name);
}
static void open_csv(const std::string& text, const std::string& name) { shell::data_open_csv(app(), name, text); }

//------------------------------------------------------------------------------
// [SECTION] Test hooks
//------------------------------------------------------------------------------
// window.cairnDashboard.widgets() / .status() in web/dashboard_host.mjs wrap these.
extern "C" {

// [{label, window, x0, y0, x1, y1}] of the last frame, in canvas pixels (CSS pixels x devicePixelRatio).
EMSCRIPTEN_KEEPALIVE const char* cairn_dashboard_widgets() {
    Json out = Json::array();
    for (const auto& w : shell::widget_map())
        out.push_back({{"label", w.label}, {"window", w.window}, {"x0", w.x0}, {"y0", w.y0}, {"x1", w.x1}, {"y1", w.y1}});
    return (sync().reply = out.dump()).c_str();
}

// {label, window, x0, y0, x1, y1} of a widget without a visible label, or null: see shell::widget_by_id.
EMSCRIPTEN_KEEPALIVE const char* cairn_dashboard_widget_by_id(const char* window, const char* label) {
    auto w = shell::widget_by_id(window, label);
    Json j = w ? Json{{"label", w->label}, {"window", w->window}, {"x0", w->x0}, {"y0", w->y0}, {"x1", w->x1}, {"y1", w->y1}} : Json();
    return (sync().reply = j.dump()).c_str();
}

// What the panels show, in plain data: panel, messages, models with versions and aliases, pending changes.
EMSCRIPTEN_KEEPALIVE const char* cairn_dashboard_status() {
    const App& a = app();
    Json models = Json::array();
    for (const auto& m : a.registry.models) {
        Json versions = Json::array(), aliases = Json::object(), history = Json::array(), damaged = Json::array();
        for (const auto& v : m.versions) {
            versions.push_back(v.number);
            if (!v.damage.empty() || v.loading) damaged.push_back(v.number);  // not shown whole (yet)
            for (const auto& al : v.aliases) aliases[al] = v.number;
        }
        for (const auto& h : m.alias_history) history.push_back({{"alias", h.alias}, {"version", h.version}, {"action", h.action}});
        models.push_back({{"name", m.name}, {"versions", versions}, {"aliases", aliases}, {"history", history}, {"damaged", damaged}});
    }
    Json datasets = Json::array();
    for (const auto& d : a.data.datasets) datasets.push_back(d.name);
    Json j = {{"panel", shell::panel_name(a.panel)}, {"models", models}, {"backend", a.storage.backend},
              {"train_state", static_cast<int>(a.train.state)}, {"train_message", a.train.message},
              {"registry_message", a.registry.message}, {"storage_message", a.storage.message},
              {"data_message", a.data.message}, {"datasets", datasets}, {"dataset", a.train.config.dataset},
              {"unsaved", sync().planners.size()}, {"selected_version", a.registry.selected_version}};
    return (sync().reply = j.dump()).c_str();
}

}  // extern "C"

}  // namespace cairn::web

EMSCRIPTEN_BINDINGS(cairn_dashboard) {
    emscripten::function("dashboardImport", &cairn::web::import_file);
    emscripten::function("dashboardOpenCsv", &cairn::web::open_csv);
    // web/cairn.mjs reads the last error after each binding call; the dashboard's mirror bindings never leave one.
    emscripten::function("takeError", +[] { return emscripten::val::null(); });
}

//------------------------------------------------------------------------------
// [SECTION] Main
//------------------------------------------------------------------------------
int main() {
    using namespace cairn;
    using namespace cairn::web;
    App& a = app();
    // The mirror is empty until the host has loaded IndexedDB (cairn_dashboard_reloaded); it is never deleted.
    shell::registry_attach(a, std::shared_ptr<Store>(&mirror(), [](Store*) {}));
    a.storage.backend = "IndexedDB (connecting...)";
    a.registry.on_commit = [](const Planner& p, const std::string& result) {
        // Only changes that queued a batch are kept (a plan that changes nothing writes nothing).
        if (mirror().commit_count() != sync().seen_commits) sync().planners.push_back({p, result});
        sync().seen_commits = mirror().commit_count();
        request_commit();
    };
    a.storage.export_path = "cairn-registry.cairnpkg";
    a.storage.save_file = [](const std::vector<uint8_t>& bytes, const std::string& name) {
        host_save_file(bytes.data(), static_cast<int>(bytes.size()), name.c_str());
    };
    a.storage.open_file = [] { host_open_file(); };
    a.data.open_csv = [] { host_open_csv(); };
    emscripten_request_animation_frame_loop(sync_tick, nullptr);
    try {
        shell::run_window(a, {});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dashboard: %s\n", e.what());
        return 1;
    }
    return 0;
}

// The page's dashboard app: the shell over sample data and a MemoryStore-backed registry, drawn with WebGL2 into
// the page's canvas (web/index.html). The browser owns the frame loop, so main() returns after installing it.
#include <exception>
#include <cstdio>
#include <memory>

#include "core/store.h"

#include "shell/app.h"
#include "shell/engine.h"
#include "shell/platform.h"

int main() {
    using namespace cairn::shell;
    static App app = make_app();
    // The registry lives in memory for now (lost on reload); the IndexedDB store replaces it when connected.
    registry_attach(app, std::make_shared<cairn::MemoryStore>());
    app.storage.backend = "memory store (this tab; not persisted)";
    try {
        run_window(app, {});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dashboard: %s\n", e.what());
        return 1;
    }
    return 0;
}

// The page's dashboard app: the shell over sample data and a MemoryStore-backed registry, drawn with WebGL2 into
// the page's canvas (web/dashboard.html). The browser owns the frame loop, so main() returns after installing it.
#include <exception>
#include <cstdio>

#include "shell/app.h"
#include "shell/engine.h"
#include "shell/platform.h"

int main() {
    using namespace cairn::shell;
    static App app = make_app();
    app.storage.backend = "memory store (this tab)";
    playground_predict(app);
    try {
        run_window(app, {});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dashboard: %s\n", e.what());
        return 1;
    }
    return 0;
}

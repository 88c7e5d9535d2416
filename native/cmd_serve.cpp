// `cairn serve`: serves the built page with the headers that make it cross-origin isolated
// (COOP/COEP), which the threaded wasm build needs for SharedArrayBuffer.
#include <httplib.h>

#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "native/cli.h"

namespace cairn::cli {
namespace {

void serve(const std::string& root, const std::string& host, int port) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(root)) fail("not_found", "serve: web root '" + root + "' is not a directory (build the wasm target first)");
    httplib::Server server;
    server.set_file_extension_and_mimetype_mapping("mjs", "text/javascript");
    server.set_file_extension_and_mimetype_mapping("wasm", "application/wasm");
    server.set_default_headers({{"Cross-Origin-Opener-Policy", "same-origin"},
                                {"Cross-Origin-Embedder-Policy", "require-corp"},
                                {"Cross-Origin-Resource-Policy", "same-origin"},
                                {"Cache-Control", "no-cache"}});
    if (!server.set_mount_point("/", root)) fail("not_found", "serve: cannot mount '" + root + "'");
    // httplib's default adds SO_REUSEPORT, with which a second `cairn serve` on a port already served binds as well
    // and the two share its connections. SO_REUSEADDR alone still allows a restart while old connections linger.
    server.set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    if (!server.bind_to_port(host, port))
        fail("io_error", "serve: cannot listen on " + host + ":" + std::to_string(port) + " (port in use?)");
    std::printf("Cairn is serving %s at http://%s:%d/\n", root.c_str(), host.c_str(), port);
    std::fflush(stdout);
    server.listen_after_bind();
}

const bool registered = add_commands(900, [](CLI::App& app) {
    auto* cmd = app.add_subcommand("serve", "Serve the web dashboard (COOP/COEP headers set)");
    static std::string root = "build/wasm/web", host = "127.0.0.1";
    static int port = 8080;
    cmd->add_option("--root", root, "Folder to serve")->capture_default_str();
    cmd->add_option("--host", host, "Address to bind")->capture_default_str();
    cmd->add_option("--port", port, "Port")->capture_default_str()->check(CLI::Range(1, 65535));
    cmd->callback([] { serve(root, host, port); });
});

}  // namespace
}  // namespace cairn::cli

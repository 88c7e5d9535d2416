// `cairn serve`: serves the built page with the headers that make it cross-origin isolated
// (COOP/COEP), which the threaded wasm build needs for SharedArrayBuffer, and with validators (ETag) so that a
// browser revalidates its cached copy instead of downloading the wasm anew on every visit.
#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "native/cli.h"

namespace cairn::cli {
namespace {

namespace fs = std::filesystem;

// The validator of a served file: its size and modification time, so a rebuilt file gets a new one. Empty for a
// path that is not a regular file under root. A browser revalidates every file ("no-cache") and, on 304 Not
// Modified, keeps its cached copy: a returning visit does not download the wasm again. (It still compiles it:
// Chromium 156 does not cache our modules' compiled code; tests/bench/PROFILE.md, "2026-12-08: the code cache".)
std::string etag_for(const fs::path& root, const std::string& url_path) {
    std::error_code ec;
    fs::path file = fs::weakly_canonical(root / fs::path(url_path).relative_path(), ec);
    if (ec) return "";
    if (fs::is_directory(file, ec)) file /= "index.html";
    const fs::path base = fs::weakly_canonical(root, ec);
    const auto [end, unused] = std::mismatch(base.begin(), base.end(), file.begin(), file.end());
    if (ec || end != base.end() || !fs::is_regular_file(file, ec)) return "";
    const auto size = fs::file_size(file, ec);
    const auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
    if (ec) return "";
    char tag[64];
    std::snprintf(tag, sizeof tag, "\"%jx-%jx\"", uintmax_t(size), uintmax_t(mtime));
    return tag;
}

void serve(const std::string& root, const std::string& host, int port) {
    if (!fs::is_directory(root)) fail("not_found", "serve: web root '" + root + "' is not a directory (build the wasm target first)");
    httplib::Server server;
    server.set_file_extension_and_mimetype_mapping("mjs", "text/javascript");
    server.set_file_extension_and_mimetype_mapping("wasm", "application/wasm");
    server.set_default_headers({{"Cross-Origin-Opener-Policy", "same-origin"},
                                {"Cross-Origin-Embedder-Policy", "require-corp"},
                                {"Cross-Origin-Resource-Policy", "same-origin"},
                                {"Cache-Control", "no-cache"}});
    using httplib::Request, httplib::Response;
    // Before the mount point serves a file: its ETag goes on the response, and a request that names it ends in 304.
    server.set_pre_routing_handler([root](const Request& req, Response& res) {
        const std::string tag = req.method == "GET" || req.method == "HEAD" ? etag_for(root, req.path) : "";
        if (tag.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_header("ETag", tag);
        if (req.get_header_value("If-None-Match") != tag) return httplib::Server::HandlerResponse::Unhandled;
        res.status = 304;
        return httplib::Server::HandlerResponse::Handled;
    });
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

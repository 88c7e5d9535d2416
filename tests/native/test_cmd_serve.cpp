// `cairn serve` as a user runs it: it serves the page with the cross-origin isolation headers and an ETag that a
// browser revalidates, and a second server on a port already served is refused instead of sharing the port with the
// first.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/native/cli_util.h"

using namespace cairn::test;
namespace fs = std::filesystem;

TEST(ServeCli, ServesIsolatedRevalidatesAndRefusesAPortInUse) {
    if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
    char tmpl[] = "/tmp/cairn_serve_XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    std::ofstream(dir + "/index.html") << "<p>cairn</p>";
    // A port from the kernel's ephemeral range that is free now (the first server binds it a moment later).
    CliRun port_run = run_shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'");
    ASSERT_EQ(port_run.status, 0) << port_run.out;
    const std::string port = std::to_string(std::stoi(port_run.out));
    const pid_t first = ::fork();
    ASSERT_GE(first, 0);
    if (first == 0) {
        ::execl(cairn_binary().c_str(), "cairn", "serve", "--root", dir.c_str(), "--port", port.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    CliRun page{1, ""};
    for (int i = 0; i < 100 && page.status != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        page = run_shell("python3 -c 'import urllib.request as u; r=u.urlopen(\"http://127.0.0.1:" + port +
                         "/index.html\"); print(r.headers[\"Cross-Origin-Embedder-Policy\"], r.read().decode())'");
    }
    EXPECT_EQ(page.status, 0) << page.out;
    EXPECT_NE(page.out.find("require-corp <p>cairn</p>"), std::string::npos) << page.out;

    // Revalidation: a request naming the file's current ETag gets 304 and no body; once the file changes, the old
    // ETag gets the new file (200) under a new ETag.
    const std::string get = "python3 -c 'import http.client as h, sys; c=h.HTTPConnection(\"127.0.0.1\", " + port +
                            "); c.request(\"GET\", \"/index.html\", headers={\"If-None-Match\": sys.argv[1]}); r=c.getresponse();"
                            " print(r.status, r.headers[\"Cache-Control\"], r.headers[\"ETag\"], r.read().decode())' ";
    CliRun first_get = run_shell(get + "none");
    ASSERT_EQ(first_get.status, 0) << first_get.out;
    const std::string ok = "200 no-cache ";
    ASSERT_EQ(first_get.out.rfind(ok + "\"", 0), 0u) << first_get.out;
    const std::string etag = first_get.out.substr(ok.size(), first_get.out.find(' ', ok.size()) - ok.size());
    CliRun unchanged = run_shell(get + "'" + etag + "'");
    EXPECT_EQ(unchanged.out, "304 no-cache " + etag + " \n") << unchanged.out;
    std::ofstream(dir + "/index.html") << "<p>cairn, rebuilt</p>";
    CliRun changed = run_shell(get + "'" + etag + "'");
    EXPECT_EQ(changed.out.rfind(ok + "\"", 0), 0u) << changed.out;
    EXPECT_EQ(changed.out.find(etag), std::string::npos) << changed.out;
    EXPECT_NE(changed.out.find("<p>cairn, rebuilt</p>"), std::string::npos) << changed.out;

    CliRun second = run_shell("timeout 5 " + cairn_binary() + " serve --root " + dir + " --port " + port);
    EXPECT_EQ(second.status, 1) << second.out;  // timeout's 124 would mean it was serving too
    EXPECT_NE(second.out.find("cannot listen on 127.0.0.1:" + port + " (port in use?)"), std::string::npos) << second.out;

    ::kill(first, SIGTERM);
    int status = 0;
    ::waitpid(first, &status, 0);
    fs::remove_all(dir);
}

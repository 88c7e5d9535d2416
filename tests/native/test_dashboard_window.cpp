// The native window, opened as a person would: `cairn dashboard --store DIR` on a virtual X display (Xvfb), looked
// at with `import` (ImageMagick) and driven with `xdotool`. The oracle is the headless renderer: the window must
// show the same pixels as render_offscreen() of the same store and panel. Then SIGTERM closes it cleanly and the
// store still verifies.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include "core/registry.h"
#include "native/file_store.h"
#include "shell/app.h"
#include "shell/engine.h"
#include "shell/platform.h"
#include "tests/core/test_registry_util.h"
#include "tests/native/cli_util.h"

extern char** environ;

namespace cairn::shell {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool on_path(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

pid_t spawn(const std::vector<std::string>& argv, const std::string& display) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).rfind("DISPLAY=", 0) != 0) env_strings.emplace_back(*e);
    if (!display.empty()) env_strings.push_back("DISPLAY=" + display);
    std::vector<char*> args, env;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    for (auto& e : env_strings) env.push_back(e.data());
    args.push_back(nullptr);
    env.push_back(nullptr);
    pid_t pid = 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);  // keep the test log readable
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

// Exit status, or -1 when it had not exited within the timeout (it is then killed).
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    while (std::chrono::steady_clock::now() < end) {
        if (::waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
    return -1;
}

struct Shot {
    int w = 0, h = 0;
    std::vector<uint8_t> rgb;
    const uint8_t* at(int x, int y) const { return &rgb[(size_t(y) * w + x) * 3]; }
};

Shot grab(const std::string& display, const std::string& path) {
    Shot s;
    std::string cmd = "import -display " + display + " -window root PNG24:" + path + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return s;
    int n = 0;
    uint8_t* px = stbi_load(path.c_str(), &s.w, &s.h, &n, 3);
    if (!px) return s;
    s.rgb.assign(px, px + size_t(s.w) * s.h * 3);
    stbi_image_free(px);
    return s;
}

// Mean absolute difference per channel over rows [y0, y1) of the window's area.
double mean_diff(const Shot& shot, const Image& ref, int y0, int y1) {
    double sum = 0;
    int64_t n = 0;
    for (int y = y0; y < y1 && y < shot.h && y < ref.height; ++y)
        for (int x = 0; x < ref.width && x < shot.w; ++x)
            for (int c = 0; c < 3; ++c, ++n) sum += std::abs(int(shot.at(x, y)[c]) - int(ref.at(x, y)[c]));
    return n ? sum / n : 255;
}

struct DashboardWindow : ::testing::Test {
    std::string dir, display;
    pid_t xvfb = -1, app = -1;
    void SetUp() override {
        if (!test::cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
        for (const char* tool : {"Xvfb", "import", "xdotool"})
            if (!on_path(tool)) GTEST_SKIP() << tool << " is not installed (scripts/setup.sh installs it)";
        char tmpl[] = "/tmp/cairn_window_XXXXXX";
        dir = ::mkdtemp(tmpl);
        int n = 90 + ::getpid() % 400;  // a display number no other test run is likely to hold
        while (fs::exists("/tmp/.X11-unix/X" + std::to_string(n))) ++n;
        display = ":" + std::to_string(n);
        xvfb = spawn({"Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-dpi", "96"}, "");
        ASSERT_GT(xvfb, 0);
        for (int i = 0; i < 100 && !fs::exists("/tmp/.X11-unix/X" + std::to_string(n)); ++i) std::this_thread::sleep_for(50ms);
        ASSERT_TRUE(fs::exists("/tmp/.X11-unix/X" + std::to_string(n))) << "Xvfb did not start on " << display;
    }
    void TearDown() override {
        if (app > 0) wait_exit(app, 0ms);
        if (xvfb > 0) {
            ::kill(xvfb, SIGTERM);
            wait_exit(xvfb, 5s);
        }
        if (!dir.empty()) fs::remove_all(dir);
    }
    // Screenshots until the window's frame settles (two equal grabs) or the timeout.
    Shot settled(const std::string& name) {
        Shot last;
        for (int i = 0; i < 60; ++i) {
            std::this_thread::sleep_for(250ms);
            Shot s = grab(display, dir + "/" + name + ".png");
            if (!s.rgb.empty() && s.rgb == last.rgb) return s;
            last = std::move(s);
        }
        return last;
    }
};

TEST_F(DashboardWindow, ShowsTheStoreLikeTheHeadlessRendererFollowsKeysAndClosesOnSigterm) {
    {
        FileStore s(FileStoreDesc{dir + "/store", false});
        register_version(s, test::make_desc("iris", 1, 1700000000000));
        register_version(s, test::make_desc("iris", 3, 1700000100000, "iris/1"));
        commit_plan(s, [](const Store& x) { return plan_set_alias(x, "iris/2", "production", 1700000200000); });
    }
    app = spawn({test::cairn_binary(), "dashboard", "--store", dir + "/store", "--panel", "registry"}, display);
    ASSERT_GT(app, 0);

    // The oracle: the same store and panel rendered headless in this process.
    App expect = make_app();
    registry_attach(expect, std::make_shared<FileStore>(FileStoreDesc{dir + "/store", false}));
    expect.panel = Panel::registry;
    Image ref = render_offscreen(expect, {1280, 800, 1.0f, 0, nullptr});
    const int body_end = 760;  // the status line below shows a live fps figure

    Shot shot = settled("registry");
    ASSERT_EQ(shot.w, 1280) << "no screenshot of display " << display;
    double d = mean_diff(shot, ref, 0, body_end);
    EXPECT_LT(d, 2.0) << "the window does not show what the headless renderer draws (see " << dir << "/registry.png)";
    // And it is not blank: the same comparison against the Data panel must fail.
    expect.panel = Panel::data;
    Image other = render_offscreen(expect, {1280, 800, 1.0f, 0, nullptr});
    double d_other = mean_diff(shot, other, 0, body_end);
    std::printf("window vs headless: mean |diff| %.3f on the same panel, %.3f against another panel\n", d, d_other);
    EXPECT_GT(d_other, 4 * std::max(d, 0.5));

    // A key press goes through X, GLFW and ImGui: "1" switches to the Data panel.
    std::system(("DISPLAY=" + display + " xdotool mousemove 640 400 key 1 >/dev/null 2>&1").c_str());
    Shot data = settled("data");
    EXPECT_LT(mean_diff(data, other, 0, body_end), 2.0) << "the key did not switch to the Data panel (see " << dir << "/data.png)";

    ::kill(app, SIGTERM);
    EXPECT_EQ(wait_exit(app, 10s), 0) << "the window did not close cleanly on SIGTERM";
    app = -1;
    FileStore s(FileStoreDesc{dir + "/store", false});
    EXPECT_EQ(verify_registry(s)["ok"], true);
    EXPECT_EQ(resolve(s, "iris@production").version, 2);
}

}  // namespace
}  // namespace cairn::shell

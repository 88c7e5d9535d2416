// `cairn train` as a user would run it: on an image folder (one sub-folder per class), and with bad option values.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/random.h"
#include "tests/native/cli_util.h"

using namespace cairn;
using namespace cairn::test;
namespace fs = std::filesystem;

namespace {

// 8x8 binary PGM (a format stb_image reads): "bright" images are light, "dark" ones dark, with noise.
void write_pgm(const std::string& path, bool bright, Rng& rng) {
    std::ofstream f(path, std::ios::binary);
    f << "P5\n8 8\n255\n";
    for (int i = 0; i < 64; ++i) {
        int base = bright ? 180 : 60;
        f.put(static_cast<char>(base + static_cast<int>(rng.below(60))));
    }
}

struct ImageFolderCli : ::testing::Test {
    std::string dir;
    void SetUp() override {
        if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
        char tmpl[] = "/tmp/cairn_images_XXXXXX";
        dir = ::mkdtemp(tmpl);
        Rng rng(7);
        for (const char* c : {"bright", "dark"}) {
            fs::create_directories(dir + "/data/" + c);
            for (int i = 0; i < 30; ++i)
                write_pgm(dir + "/data/" + c + "/" + std::to_string(i) + ".pgm", std::string(c) == "bright", rng);
        }
    }
    void TearDown() override {
        if (!dir.empty()) fs::remove_all(dir);
    }
};

}  // namespace

TEST_F(ImageFolderCli, TrainsOnClassSubFolders) {
    CliRun r = cairn_cli("train " + dir + "/data --arch linear --epochs 30 --seed 1 --lr 0.05 -o " + dir + "/m.safetensors");
    ASSERT_EQ(r.status, 0) << r.out;
    // The two classes are separable by brightness: the held-out split must be classified perfectly.
    EXPECT_NE(r.out.find("test"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1.0000"), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(dir + "/m.safetensors"));
}

TEST_F(ImageFolderCli, ABrokenImageIsNamed) {
    std::ofstream(dir + "/data/dark/broken.png") << "not an image";
    CliRun r = cairn_cli("train " + dir + "/data --epochs 1 -o " + dir + "/m.safetensors");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.out.find("dark/broken.png"), std::string::npos) << r.out;
}

// A value the option cannot take is refused before anything runs, naming the option and what it expects (a zero
// batch or epoch count used to mean "the default" and train silently with 32 or 10).
TEST(TrainCli, RefusesOutOfRangeOptionsByName) {
    if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
    const struct { const char* args; const char* message; } cases[] = {
        {"--batch 0", "--batch: expected a positive number, got '0'"},
        {"--epochs -2", "--epochs: expected a positive number, got '-2'"},
        {"--lr nan", "--lr: expected a positive number, got 'nan'"},
        {"--patience -1", "--patience: expected 0 or more, got '-1'"},
        {"--test-split 1.5", "--test-split: expected a fraction from 0 to 0.9, got '1.5'"},
        {"--val-split 0.95", "--val-split: expected a fraction from 0 to 0.9, got '0.95'"},
    };
    for (const auto& c : cases) {
        CliRun r = cairn_cli(std::string("train iris -q -o /nonexistent/m.safetensors ") + c.args);
        EXPECT_EQ(r.status, 2) << c.args;
        EXPECT_NE(r.out.find(c.message), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("saved"), std::string::npos) << r.out;
    }
    CliRun r = cairn_cli("eval /dev/null iris --limit 0");
    EXPECT_NE(r.out.find("--limit: expected a positive number, got '0'"), std::string::npos) << r.out;
}

// -o is replaced whole (write, sync, rename), except where there is nothing to keep or the rename would break
// something: a pipe (or device, such as /dev/null) is written in place and stays a pipe; a link stays a link and the
// file it points at gets the model. (Renaming over /dev/null as root once replaced it with a regular file.)
TEST(TrainCli, WritesThroughPipesAndLinks) {
    if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
    char tmpl[] = "/tmp/cairn_out_XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    const std::string train = cairn_binary() + " train iris -q --epochs 1 --seed 3 -o ";
    ASSERT_EQ(run_shell(train + dir + "/plain.safetensors").status, 0);
    std::ifstream plain_in(dir + "/plain.safetensors", std::ios::binary);
    const std::string plain((std::istreambuf_iterator<char>(plain_in)), {});

    const std::string pipe = dir + "/pipe";
    ASSERT_EQ(::mkfifo(pipe.c_str(), 0644), 0);
    // The reader gives up after 30 s, should the writer never open the pipe.
    CliRun piped = run_shell("timeout 30 cat " + pipe + " > " + dir + "/from_pipe & " + train + pipe + "; s=$?; wait; exit $s");
    EXPECT_EQ(piped.status, 0) << piped.out;
    EXPECT_TRUE(fs::is_fifo(pipe));
    std::ifstream from_pipe_in(dir + "/from_pipe", std::ios::binary);
    EXPECT_TRUE(std::string((std::istreambuf_iterator<char>(from_pipe_in)), {}) == plain);

    fs::create_directory(dir + "/models");
    fs::create_symlink(dir + "/models/real.safetensors", dir + "/link.safetensors");
    std::ofstream(dir + "/models/real.safetensors") << "old";
    CliRun linked = run_shell(train + dir + "/link.safetensors");
    EXPECT_EQ(linked.status, 0) << linked.out;
    EXPECT_TRUE(fs::is_symlink(dir + "/link.safetensors"));
    std::ifstream real_in(dir + "/models/real.safetensors", std::ios::binary);
    EXPECT_TRUE(std::string((std::istreambuf_iterator<char>(real_in)), {}) == plain);
    fs::remove_all(dir);
}

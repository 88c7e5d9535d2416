// `cairn train` on an image folder (one sub-folder per class), as a user would run it.
#include <gtest/gtest.h>
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

// A disk that fills up part-way through a write (full_disk/full_disk_shim.c, preloaded into `cairn`): every command
// that writes fails with quota_exceeded naming the file, and what was stored before is still there, intact. The
// sweeps move the point where the disk fills across every file a command writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/registry.h"
#include "native/file_store.h"
#include "tests/core/test_registry_util.h"
#include "tests/native/cli_util.h"

using namespace cairn;
using namespace cairn::test;
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

struct FullDisk : ::testing::Test {
    std::string dir, store;
    void SetUp() override {
        if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
        char tmpl[] = "/tmp/cairn_full_disk_XXXXXX";
        dir = ::mkdtemp(tmpl);
        store = dir + "/store";
        FileStore s(FileStoreDesc{store, false});
        register_version(s, make_desc("iris", 1, 1700000000000));
        register_version(s, make_desc("iris", 3, 1700000100000, "iris/1"));
    }
    void TearDown() override {
        if (!dir.empty()) fs::remove_all(dir);
    }
    // `cairn ARGS` on a disk with `bytes` bytes free.
    static CliRun with_free_bytes(long long bytes, const std::string& args) {
        return run_shell("CAIRN_DISK_BYTES=" + std::to_string(bytes) + " LD_PRELOAD=" +
                         CAIRN_FULL_DISK_SHIM + " " + cairn_binary() + " " + args);
    }
    // The registry as every reader sees it: verify's report and each model's versions and aliases.
    std::string registry_state() {
        CliRun v = cairn_cli("verify --json --store " + store);
        EXPECT_EQ(v.status, 0) << v.out;
        std::string state = v.out;
        for (const Json& m : Json::parse(cairn_cli("models --json --store " + store).out))
            state += cairn_cli("versions " + m["name"].get<std::string>() + " --json --store " + store).out +
                     cairn_cli("history " + m["name"].get<std::string>() + " --json --store " + store).out;
        return state;
    }
    bool staging_is_empty() const {
        return fs::is_empty(store + "/stage") && !fs::exists(store + "/journal.tmp") && !fs::exists(store + "/journal");
    }
};

// Runs `args` on a disk with 0, step, 2*step, ... bytes free until it succeeds; after every failure the error names
// the full disk and `unchanged()` holds. Returns the number of failed runs.
template <class Check>
int sweep(const std::string& args, long long step, Check unchanged) {
    int failures = 0;
    for (long long free = 0; failures < 400; free += step) {
        CliRun r = FullDisk::with_free_bytes(free, args);
        if (r.status == 0) return failures;
        ++failures;
        EXPECT_NE(r.out.find("quota_exceeded"), std::string::npos) << "with " << free << " bytes free: " << r.out;
        EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
        unchanged(free);
        if (::testing::Test::HasFailure()) return failures;
    }
    ADD_FAILURE() << args << " never succeeded";
    return failures;
}

}  // namespace

TEST_F(FullDisk, ImportIsAllOrNothing) {
    // A version of another model, exported from a second store.
    FileStore src(FileStoreDesc{dir + "/src", false});
    register_version(src, make_desc("digits", 2, 1700000300000));
    ASSERT_EQ(cairn_cli("export digits/1 -o " + dir + "/digits.cairn --store " + dir + "/src").status, 0);
    const std::string before = registry_state();
    const long long size = static_cast<long long>(fs::file_size(dir + "/digits.cairn"));
    int failures = sweep("import " + dir + "/digits.cairn --store " + store, std::max(1LL, size / 40), [&](long long free) {
        EXPECT_EQ(registry_state(), before) << "with " << free << " bytes free";
        EXPECT_TRUE(staging_is_empty()) << "staged files left behind with " << free << " bytes free";
    });
    EXPECT_GE(failures, 20);  // the full disk landed in every file of the commit
    EXPECT_EQ(cairn_cli("versions digits --json --store " + store).status, 0);
    EXPECT_NE(registry_state(), before);
}

TEST_F(FullDisk, PromoteKeepsTheAliasesAndTheirHistory) {
    ASSERT_EQ(cairn_cli("promote iris/1 production --store " + store).status, 0);
    const std::string before = registry_state();
    int failures = sweep("promote iris/2 production --reason test --store " + store, 16, [&](long long free) {
        EXPECT_EQ(registry_state(), before) << "with " << free << " bytes free";
        EXPECT_TRUE(staging_is_empty());
    });
    EXPECT_GE(failures, 10);
    EXPECT_EQ(Json::parse(cairn_cli("show iris@production --json --store " + store).out)["version"], 2);
}

// Files written outside the registry are replaced whole: a failed write keeps the previous file.
TEST_F(FullDisk, TrainAndExportKeepThePreviousFile) {
    // Training is deterministic, so the files of seed 2 are known before the sweep: each file must be either the
    // previous one or the new one, whole (the model can be saved and the history then not fit).
    auto train = [&](int seed, const std::string& out) {
        return "train iris --epochs 2 -q --seed " + std::to_string(seed) + " -o " + out + ".safetensors --history " + out + ".json";
    };
    const std::string out_1 = dir + "/one", out_2 = dir + "/two", model = dir + "/iris.safetensors", history = dir + "/iris.json";
    ASSERT_EQ(cairn_cli(train(1, out_1)).status, 0);
    ASSERT_EQ(cairn_cli(train(2, out_2)).status, 0);
    const std::string model_1 = read_all(out_1 + ".safetensors"), history_1 = read_all(out_1 + ".json");
    const std::string model_2 = read_all(out_2 + ".safetensors"), history_2 = read_all(out_2 + ".json");
    ASSERT_TRUE(model_1 != model_2);
    ASSERT_EQ(cairn_cli(train(1, dir + "/iris")).status, 0);
    const long long size = static_cast<long long>(model_2.size() + history_2.size());
    int failures = sweep(train(2, dir + "/iris"), size / 8, [&](long long free) {
        const std::string m = read_all(model), h = read_all(history);
        EXPECT_TRUE(m == model_1 || m == model_2) << "a part of the model file with " << free << " bytes free";
        EXPECT_TRUE(h == history_1) << "the history changed although the command failed, with " << free << " bytes free";
        EXPECT_FALSE(fs::exists(model + ".tmp") || fs::exists(history + ".tmp"));
    });
    EXPECT_GE(failures, 8);
    EXPECT_TRUE(read_all(model) == model_2 && read_all(history) == history_2);

    const std::string out = dir + "/all.cairn";
    ASSERT_EQ(cairn_cli("export -o " + out + " --store " + store).status, 0);
    const std::string old_export = read_all(out);
    ASSERT_EQ(cairn_cli("promote iris/1 staging --store " + store).status, 0);  // so the next export differs
    failures = sweep("export -o " + out + " --store " + store, static_cast<long long>(old_export.size() / 5), [&](long long free) {
        EXPECT_TRUE(read_all(out) == old_export) << "the export changed with " << free << " bytes free";
        EXPECT_FALSE(fs::exists(out + ".tmp"));
    });
    EXPECT_GE(failures, 5);
}

// FileStore: the Store contract on disk, checksums on read, crash safety under kill -9 at random moments, and two
// processes registering at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/registry.h"
#include "native/file_store.h"
#include "tests/core/store_contract.h"
#include "tests/core/test_registry_util.h"

using namespace cairn;
using namespace cairn::test;
namespace fs = std::filesystem;

namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// A fresh folder per test, removed afterwards.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/cairn_fs_XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

// Runs f in a child process that reports int64 values through a pipe; returns {pid, read fd}.
std::pair<pid_t, int> spawn(const std::function<void(int fd)>& f) {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(p[0]);
        try {
            f(p[1]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child: %s\n", e.what());
            ::_exit(3);
        }
        ::_exit(0);
    }
    ::close(p[1]);
    return {pid, p[0]};
}

void report(int fd, int64_t v) {
    if (::write(fd, &v, sizeof v) != sizeof v) ::_exit(4);
}

std::vector<int64_t> collect(int fd) {
    std::vector<int64_t> out;
    int64_t v;
    while (::read(fd, &v, sizeof v) == sizeof v) out.push_back(v);
    ::close(fd);
    return out;
}

}  // namespace

TEST(FileStore, ConditionalBatchesPersistAcrossReopen) {
    TempDir dir;
    {
        FileStore s(dir.path + "/nested/store");
        expect_conditional_batches(s);
        // Keys that are awkward as file names are stored as given.
        Batch odd;
        odd.writes.push_back({"odd key/with spaces%and:colons", bytes("x")});
        odd.writes.push_back({"..", bytes("dots")});
        ASSERT_TRUE(s.commit(odd));
    }
    FileStore s(dir.path + "/nested/store");
    EXPECT_EQ(s.list("v/"), std::vector<std::string>{"v/2"});
    EXPECT_EQ(*s.get("counter"), bytes("2"));
    EXPECT_EQ(*s.get("odd key/with spaces%and:colons"), bytes("x"));
    EXPECT_EQ(*s.get(".."), bytes("dots"));
    EXPECT_EQ(s.list("").size(), 4u);
    EXPECT_TRUE(fs::is_empty(dir.path + "/nested/store/stage"));
    EXPECT_FALSE(fs::exists(dir.path + "/nested/store/journal"));
}

TEST(FileStore, DamagedFilesAreReportedOnRead) {
    TempDir dir;
    FileStore s(dir.path);
    Batch b;
    b.writes.push_back({"k", bytes("hello world")});
    ASSERT_TRUE(s.commit(b));
    std::string path = dir.path + "/data/k";
    std::string content;
    {
        std::ifstream in(path, std::ios::binary);
        content.assign(std::istreambuf_iterator<char>(in), {});
    }
    for (size_t i = 0; i < content.size(); ++i) {
        std::string c = content;
        c[i] ^= 0x04;
        std::ofstream(path, std::ios::binary | std::ios::trunc) << c;
        EXPECT_EQ(code_of([&] { s.get("k"); }), "integrity") << i;
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content.substr(0, 5);
    EXPECT_EQ(code_of([&] { s.get("k"); }), "integrity");
}

// A writer killed before its commit point leaves nothing; killed after it, the next opener replays the journal.
// Repeated with random delays so kills land in every phase of a commit. Half the rounds fsync (commits then spend
// most of their time in fsyncs spread over the whole protocol, so kills land inside commits, before and after the
// commit point); the other half skip fsync (only power loss needs it) so many more versions go through.
TEST(FileStore, KillDuringRegistrationNeverLeavesPartialVersions) {
    TempDir dir;
    Rng rng(1234);
    std::set<int64_t> reported;
    int64_t checked_up_to = 0;
    int rounds = 0, replays = 0, discarded = 0;
    for (; rounds < 50 || (replays < 3 && rounds < 150); ++rounds) {
        bool sync = rounds % 2 == 1;
        auto [pid, fd] = spawn([&](int out) {
            FileStore s(FileStoreDesc{dir.path, sync});
            for (uint64_t i = 0;; ++i) report(out, register_version(s, make_desc("m", rounds * 1000 + i, rounds)).version);
        });
        std::this_thread::sleep_for(std::chrono::microseconds(500 + rng.below(sync ? 60000 : 25000)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped on its own: status " << status;
        for (int64_t v : collect(fd)) reported.insert(v);
        bool journal = fs::exists(dir.path + "/journal");
        if (journal) ++replays;
        else if (fs::exists(dir.path + "/journal.tmp") || (fs::exists(dir.path + "/stage") && !fs::is_empty(dir.path + "/stage"))) ++discarded;
        FileStore s(dir.path);
        if (list_models(s).empty()) {  // killed before the first registration committed
            ASSERT_TRUE(reported.empty());
            ASSERT_FALSE(journal);
            continue;
        }
        std::vector<int64_t> vs = list_versions(s, "m");
        // Consecutive from 1, everything reported saved is there, nothing half-written is visible.
        for (size_t i = 0; i < vs.size(); ++i) ASSERT_EQ(vs[i], static_cast<int64_t>(i + 1)) << "round " << rounds;
        ASSERT_FALSE(vs.empty());
        ASSERT_GE(vs.back(), reported.empty() ? 0 : *reported.rbegin()) << "a reported version was lost";
        if (journal) EXPECT_GT(vs.back(), checked_up_to) << "a committed batch was not replayed";
        for (int64_t v = checked_up_to + 1; v <= vs.back(); ++v) {
            LoadedVersion lv = load_version(s, "m/" + std::to_string(v));
            EXPECT_EQ(lv.artifact.weights.size(), 5u);
        }
        checked_up_to = vs.back();
        EXPECT_TRUE(fs::is_empty(dir.path + "/stage"));
        EXPECT_FALSE(fs::exists(dir.path + "/journal"));
    }
    FileStore s(dir.path);
    Json report_json = verify_registry(s);
    EXPECT_TRUE(report_json["ok"]) << report_json.dump();
    EXPECT_GE(checked_up_to, 10);  // the children did get work done between kills
    std::printf("kill test: %d kills, %d after the commit point (journal replayed), %d before it (staged files "
                "discarded); %zu versions reported saved, %lld in the store\n",
                rounds, replays, discarded, reported.size(), static_cast<long long>(checked_up_to));
}

TEST(FileStore, TwoProcessesRegisteringGetDistinctConsecutiveVersions) {
    TempDir dir;
    { FileStore s(dir.path); }
    auto worker = [&](int who) {
        return spawn([&, who](int out) {
            FileStore s(FileStoreDesc{dir.path, false});
            for (int i = 0; i < 100; ++i) report(out, register_version(s, make_desc("race", who * 1000 + i, i)).version);
        });
    };
    auto [pa, fa] = worker(1);
    auto [pb, fb] = worker(2);
    std::vector<int64_t> a = collect(fa), b = collect(fb);
    int sa = 0, sb = 0;
    ::waitpid(pa, &sa, 0);
    ::waitpid(pb, &sb, 0);
    ASSERT_TRUE(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
    ASSERT_TRUE(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
    ASSERT_EQ(a.size(), 100u);
    ASSERT_EQ(b.size(), 100u);
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
    std::set<int64_t> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    ASSERT_EQ(all.size(), 200u);
    EXPECT_EQ(*all.begin(), 1);
    EXPECT_EQ(*all.rbegin(), 200);
    FileStore s(dir.path);
    EXPECT_EQ(list_versions(s, "race").size(), 200u);
    // Each process's versions hold what that process registered (seeds differ per process).
    LoadedVersion v = load_version(s, "race/" + std::to_string(a[7]));
    EXPECT_EQ(v.manifest["hyperparameters"]["lr"], 0.01 * 1007);
    EXPECT_TRUE(verify_registry(s)["ok"]);
}

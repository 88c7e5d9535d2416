// The registry commands, run as a user would: the `cairn` binary against a store filled through the library.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/data.h"
#include "core/preprocess.h"
#include "core/registry.h"
#include "native/file_store.h"
#include "shell/app.h"
#include "shell/engine.h"
#include "tests/core/test_registry_util.h"
#include "tests/native/cli_util.h"

using namespace cairn;
using namespace cairn::test;
namespace fs = std::filesystem;

namespace {

struct RegistryCli : ::testing::Test {
    std::string dir;
    void SetUp() override {
        if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
        char tmpl[] = "/tmp/cairn_cli_XXXXXX";
        dir = ::mkdtemp(tmpl);
        FileStore s(FileStoreDesc{dir + "/store", false});
        register_version(s, make_desc("iris", 1, 1700000000000));
        register_version(s, make_desc("iris", 3, 1700000100000, "iris/1"));
        register_version(s, make_desc("iris", 5, 1700000200000, "iris/2"));
    }
    void TearDown() override {
        if (!dir.empty()) fs::remove_all(dir);
    }
    CliRun run(const std::string& args) { return cairn_cli(args + " --store " + dir + "/store"); }
    Json json(const std::string& args) {
        CliRun r = run(args + " --json");
        EXPECT_EQ(r.status, 0) << r.out;
        return Json::parse(r.out);
    }
};

}  // namespace

TEST_F(RegistryCli, ListsPromotesRollsBackAndRecordsHistory) {
    Json models = json("models");
    ASSERT_EQ(models.size(), 1u);
    EXPECT_EQ(models[0]["latest"], 3);
    EXPECT_EQ(json("versions iris").size(), 3u);
    EXPECT_EQ(run("promote iris/1 production --reason first").status, 0);
    EXPECT_EQ(run("promote iris/3 production").status, 0);
    EXPECT_EQ(json("show iris@production")["version"], 3);
    CliRun rb = run("rollback iris production --reason regression");
    EXPECT_EQ(rb.status, 0);
    EXPECT_NE(rb.out.find("3 -> 1"), std::string::npos) << rb.out;
    Json h = json("history iris");
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[2]["action"], "rollback");
    EXPECT_EQ(h[2]["reason"], "regression");
    CliRun refused = run("delete iris/1");
    EXPECT_EQ(refused.status, 1);
    EXPECT_NE(refused.out.find("alias_in_use"), std::string::npos) << refused.out;
    CliRun bad = run("show iris/9");
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.out.find("no version 9"), std::string::npos) << bad.out;
    EXPECT_EQ(json("diff iris/1 iris/2")["weights"].size(), 5u);
    CliRun table = run("versions iris");
    EXPECT_NE(table.out.find("VERSION"), std::string::npos);
    std::printf("%s%s%s", table.out.c_str(), run("history iris").out.c_str(), run("diff iris/1 iris/2").out.c_str());
}

TEST_F(RegistryCli, ExportImportVerifyAndGc) {
    ASSERT_EQ(run("export -o " + dir + "/all.cairn").status, 0);
    EXPECT_EQ(cairn_cli("import " + dir + "/all.cairn --store " + dir + "/copy").status, 0);
    Json v = Json::parse(cairn_cli("verify --json --store " + dir + "/copy").out);
    EXPECT_TRUE(v["ok"]);
    EXPECT_EQ(v["versions"], 3);
    // A truncated file is refused with the reason and the copy is unchanged.
    std::ofstream(dir + "/cut.cairn", std::ios::binary) << std::ifstream(dir + "/all.cairn", std::ios::binary).rdbuf();
    fs::resize_file(dir + "/cut.cairn", fs::file_size(dir + "/cut.cairn") - 10);
    CliRun cut = run("import " + dir + "/cut.cairn");
    EXPECT_EQ(cut.status, 1);
    EXPECT_NE(cut.out.find("truncated"), std::string::npos) << cut.out;
    // Damage one blob on disk: verify fails naming it.
    FileStore s(dir + "/store");
    std::string blob = s.list("blob/")[0];
    std::string path = dir + "/store/data/blob%2F" + blob.substr(5);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x7f');
    f.close();
    CliRun bad = run("verify");
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.out.find("integrity"), std::string::npos) << bad.out;
    CliRun bad_run = run("verify --json");  // the report on stdout, then the failure on stderr (folded in, either order)
    EXPECT_EQ(bad_run.status, 1);
    const size_t open = bad_run.out.find('{'), close = bad_run.out.rfind('}');
    ASSERT_NE(open, std::string::npos) << bad_run.out;
    Json bad_json = Json::parse(bad_run.out.substr(open, close - open + 1));
    EXPECT_EQ(bad_json["versions"], 3);  // every version is counted, the one the blob belongs to as damaged
    EXPECT_EQ(bad_json["damaged_versions"], 1);
    EXPECT_EQ(run("delete iris/3").status, 0);
    Json gc = json("gc --dry-run");
    EXPECT_GE(gc["deleted"].get<int>(), 1);
}

// `cairn train --register` records the lineage: dataset fingerprint (checked against the loader's own), schema,
// hyper-parameters, history, metrics per split, parent.
TEST_F(RegistryCli, TrainRegistersVersionsWithLineage) {
    std::string common = " -q --epochs 3 --seed 1 --store " + dir + "/trained";
    CliRun first = cairn_cli("train iris -o " + dir + "/a.safetensors --register flowers" + common);
    ASSERT_EQ(first.status, 0) << first.out;
    EXPECT_NE(first.out.find("registered flowers/1"), std::string::npos) << first.out;
    CliRun second = cairn_cli("train iris --lr 0.05 -o " + dir + "/b.safetensors --register flowers --parent flowers@latest --notes again" + common);
    ASSERT_EQ(second.status, 0) << second.out;
    CliRun bad_parent = cairn_cli("train iris -o " + dir + "/c.safetensors --register flowers --parent flowers/9" + common);
    EXPECT_EQ(bad_parent.status, 1);
    EXPECT_NE(bad_parent.out.find("no version 9"), std::string::npos) << bad_parent.out;

    FileStore s(dir + "/trained");
    LoadedVersion v1 = load_version(s, "flowers/1"), v2 = load_version(s, "flowers/2");
    EXPECT_EQ(list_versions(s, "flowers").size(), 2u);  // the refused run registered nothing
    Dataset iris = load_bundled_dataset("iris");
    EXPECT_EQ(v2.manifest["dataset"]["fingerprint"], dataset_fingerprint(iris));
    EXPECT_EQ(v2.manifest["dataset"]["schema"], schema_to_json(iris.schema));
    EXPECT_EQ(v2.manifest["dataset"]["samples"], iris.size());
    EXPECT_EQ(v2.manifest["parent"], (Json{{"model", "flowers"}, {"version", 1}}));
    EXPECT_TRUE(v1.manifest["parent"].is_null());
    EXPECT_EQ(v2.manifest["notes"], "again");
    EXPECT_EQ(v2.manifest["hyperparameters"]["epochs"], 3);
    EXPECT_EQ(v2.manifest["hyperparameters"]["architecture"], "mlp");  // the preset chosen when --arch is not given
    EXPECT_NEAR(v2.manifest["hyperparameters"]["optimizer"]["lr"].get<double>(), 0.05, 1e-6);
    EXPECT_EQ(v2.manifest["training_history"]["loss"].size(), 3u);
    EXPECT_TRUE(v2.manifest["metrics"]["test"].contains("accuracy"));
    EXPECT_EQ(v2.manifest["metrics"]["test"]["samples"].get<int64_t>() + v2.manifest["metrics"]["train"]["samples"].get<int64_t>(), iris.size());
    // The registered weights are the ones written to the model file (same safetensors bytes for the weights).
    EXPECT_FALSE(v2.artifact.weights.empty());
    Json d = compare_versions(s, "flowers/1", "flowers/2");
    ASSERT_EQ(d["hyperparameters"].size(), 1u) << d["hyperparameters"].dump();
    EXPECT_EQ(d["hyperparameters"][0]["key"], "optimizer.lr");
}

TEST_F(RegistryCli, AnnotateAndUnarchiveAreSavedInTheStore) {
    EXPECT_EQ(run("annotate iris/2 --notes 'checked on holdout' --tag reviewed --tag v2").status, 0);
    FileStore s(FileStoreDesc{dir + "/store", false});
    Json note = version_annotation(model_record(s, "iris"), load_manifest(s, {"iris", 2}));
    EXPECT_EQ(note["notes"], "checked on holdout");
    EXPECT_EQ(note["tags"], (Json{"reviewed", "v2"}));
    Json listed = json("versions iris");
    EXPECT_EQ(listed[1]["tags"], (Json{"reviewed", "v2"}));
    CliRun shown = run("show iris/2");
    EXPECT_NE(shown.out.find("reviewed, v2"), std::string::npos) << shown.out;

    CliRun bad = run("annotate iris/2 --tag 'a,b'");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.out.find("tag 1"), std::string::npos) << bad.out;

    EXPECT_EQ(run("archive iris/3").status, 0);
    EXPECT_EQ(json("show iris@latest")["version"], 2);
    EXPECT_EQ(run("unarchive iris/3").status, 0);
    EXPECT_EQ(json("show iris@latest")["version"], 3);
}

// eval and predict take a model file or a registry version; a registry version is checked as it loads. The accuracy
// eval prints must be the share of rows whose predicted class (predict's CSV) is the label.
TEST_F(RegistryCli, EvalAndPredictTakeAFileOrARegistryVersion) {
    const std::string store = " --store " + dir + "/trained";
    CliRun trained = cairn_cli("train iris -q --epochs 20 --seed 1 -o " + dir + "/a.safetensors --register flowers" + store);
    ASSERT_EQ(trained.status, 0) << trained.out;
    CliRun from_file = cairn_cli("eval " + dir + "/a.safetensors iris");
    CliRun from_version = cairn_cli("eval flowers/1 iris" + store);
    ASSERT_EQ(from_file.status, 0) << from_file.out;
    ASSERT_EQ(from_version.status, 0) << from_version.out;
    EXPECT_EQ(from_version.out, from_file.out);
    ASSERT_EQ(cairn_cli("promote flowers/1 production" + store).status, 0);
    EXPECT_EQ(cairn_cli("eval flowers@production iris" + store).out, from_file.out);

    CliRun pred = cairn_cli("predict flowers@latest iris" + store);
    ASSERT_EQ(pred.status, 0) << pred.out;
    std::istringstream lines(pred.out);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line.rfind("index,predicted,label,", 0), 0u) << line;
    int rows = 0, right = 0;
    while (std::getline(lines, line)) {
        std::istringstream f(line);
        std::string index, predicted, label;
        std::getline(f, index, ',');
        std::getline(f, predicted, ',');
        std::getline(f, label, ',');
        ++rows;
        right += predicted == label;
    }
    EXPECT_EQ(rows, 150);
    char accuracy[16];
    std::snprintf(accuracy, sizeof accuracy, "%.4f", double(right) / rows);
    std::istringstream table(from_file.out);
    std::string row;
    while (std::getline(table, row) && row.rfind("iris", 0) != 0) {}
    std::istringstream cols(row);
    std::string name, samples, loss, acc;
    cols >> name >> samples >> loss >> acc;
    EXPECT_EQ(acc, accuracy) << from_file.out;

    CliRun missing = cairn_cli("eval flowers/9 iris" + store);
    EXPECT_EQ(missing.status, 1);
    EXPECT_NE(missing.out.find("no version 9"), std::string::npos) << missing.out;
    CliRun no_file = cairn_cli("eval " + dir + "/nope.safetensors iris");
    EXPECT_EQ(no_file.status, 1);
    EXPECT_NE(no_file.out.find("cannot open"), std::string::npos) << no_file.out;

    // One byte of the weights changed in the store: the version is refused, the file still loads.
    FileStore s(dir + "/trained");
    const std::string sha = load_version(s, "flowers/1").manifest["weights"]["blob"].get<std::string>();
    fs::path blob;
    for (const auto& e : fs::recursive_directory_iterator(dir + "/trained"))
        if (e.path().filename().string().find(sha) != std::string::npos) blob = e.path();
    ASSERT_FALSE(blob.empty());
    {
        std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f.put('\x5a');
    }
    CliRun tampered = cairn_cli("eval flowers/1 iris" + store);
    EXPECT_EQ(tampered.status, 1) << tampered.out;
    EXPECT_NE(tampered.out.find(sha), std::string::npos) << tampered.out;
    EXPECT_EQ(cairn_cli("predict flowers/1 iris" + store).status, 1);
    EXPECT_EQ(cairn_cli("eval " + dir + "/a.safetensors iris").out, from_file.out);
}

// A version registered by the command line reads in the dashboard as one registered there does: its loss and
// validation curves on Compare (the CLI once stored per-epoch rows the dashboard could not read).
TEST_F(RegistryCli, CommandLineVersionsShowTheirCurvesInTheDashboard) {
    const std::string store = " --store " + dir + "/trained";
    ASSERT_EQ(cairn_cli("train iris -q --epochs 4 --seed 2 -o " + dir + "/plain.safetensors --register plain" + store).status, 0);
    ASSERT_EQ(cairn_cli("train iris -q --epochs 5 --seed 2 --val-split 0.25 -o " + dir + "/held.safetensors --register held" + store).status, 0);
    auto s = std::make_shared<FileStore>(dir + "/trained");
    Json held = load_version(*s, "held/1").manifest;
    EXPECT_EQ(held["hyperparameters"]["validation_split"], 0.25);
    shell::App app;
    shell::registry_attach(app, s);
    ASSERT_EQ(app.registry.models.size(), 2u);
    for (const auto& m : app.registry.models) {
        ASSERT_EQ(m.versions.size(), 1u) << m.name;
        const auto& c = m.versions[0].curves;
        const size_t epochs = m.name == "held" ? 5 : 4;
        EXPECT_EQ(c.train_loss.size(), epochs) << m.name;
        EXPECT_EQ(c.train_acc.size(), epochs) << m.name;
        EXPECT_EQ(c.val_loss.size(), m.name == "held" ? epochs : 0u) << m.name;
        EXPECT_EQ(c.val_acc.size(), m.name == "held" ? epochs : 0u) << m.name;
    }
}

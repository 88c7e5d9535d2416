// `cairn train`, `eval`, `predict` and `drift` as a user would run them: an image folder (one sub-folder per class),
// bad option values, outputs through pipes and links, the evaluation report checked against `cairn predict`, and
// other files (another column order, one class, no labels) matched to the model or the reference by name.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/artifact.h"
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

// Rows of a simple CSV (no quoting: what `cairn predict` prints, the bundled iris file), the header first.
std::vector<std::vector<std::string>> csv_rows(std::istream& in) {
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(in, line);) {
        rows.emplace_back();
        std::istringstream cells(line);
        for (std::string c; std::getline(cells, c, ',');) rows.back().push_back(c);
    }
    return rows;
}
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
    std::istringstream in(text);
    return csv_rows(in);
}
std::vector<std::vector<std::string>> iris_rows() {  // sepal_length,sepal_width,petal_length,petal_width,species
    std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/assets/datasets/iris.csv");
    return csv_rows(in);
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

// `cairn eval` reports per-class scores, AUC and the confusion matrix. The oracle is `cairn predict` on the same data:
// the confusion matrix is counted from its rows, and each class's AUC is the Mann-Whitney statistic of its
// probability column (the share of positive-negative pairs ranked the right way, ties counting one half).
TEST(TrainCli, EvalReportAgreesWithPredictions) {
    if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
    char tmpl[] = "/tmp/cairn_eval_XXXXXX";
    const std::string dir = ::mkdtemp(tmpl), model = dir + "/m.safetensors";
    ASSERT_EQ(cairn_cli("train iris -q --epochs 2 --seed 3 -o " + model).status, 0);  // an imperfect model on purpose
    CliRun json = cairn_cli("eval " + model + " iris --json");
    ASSERT_EQ(json.status, 0) << json.out;
    const cairn::Json rep = cairn::Json::parse(json.out);
    CliRun pred = cairn_cli("predict " + model + " iris");
    ASSERT_EQ(pred.status, 0) << pred.out;

    std::vector<std::string> names;
    for (const auto& c : rep["classes"]) names.push_back(c["name"]);
    ASSERT_EQ(names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
    auto index_of = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
    std::vector<std::vector<int64_t>> confusion(3, std::vector<int64_t>(3, 0));
    std::vector<int> label;
    std::vector<std::vector<double>> prob(3);
    const auto rows = csv_rows(pred.out);  // index,predicted,label,p_setosa,...
    for (size_t r = 1; r < rows.size(); ++r) {
        const std::vector<std::string>& f = rows[r];
        ASSERT_EQ(f.size(), 6u) << r;
        label.push_back(static_cast<int>(index_of(f[2])));
        ++confusion[static_cast<size_t>(label.back())][static_cast<size_t>(index_of(f[1]))];
        for (int c = 0; c < 3; ++c) prob[static_cast<size_t>(c)].push_back(std::stod(f[3 + static_cast<size_t>(c)]));
    }
    ASSERT_EQ(label.size(), 150u);
    EXPECT_EQ(rep["confusion"].get<std::vector<std::vector<int64_t>>>(), confusion);
    EXPECT_EQ(rep["n"], 150);
    int64_t right = 0;
    for (int c = 0; c < 3; ++c) right += confusion[static_cast<size_t>(c)][static_cast<size_t>(c)];
    EXPECT_NEAR(rep["accuracy"].get<double>(), right / 150.0, 1e-12);
    EXPECT_LT(right, 150) << "the model should make mistakes, or the check says little";
    for (size_t c = 0; c < 3; ++c) {
        double pairs = 0, won = 0;
        for (size_t i = 0; i < label.size(); ++i)
            for (size_t j = 0; j < label.size(); ++j)
                if (label[i] == static_cast<int>(c) && label[j] != static_cast<int>(c)) {
                    ++pairs;
                    won += prob[c][i] > prob[c][j] ? 1.0 : prob[c][i] == prob[c][j] ? 0.5 : 0.0;
                }
        // predict prints 6 significant digits, so near-ties can differ from the full-precision ROC by a hair.
        EXPECT_NEAR(rep["classes"][c]["auc"].get<double>(), won / pairs, 2e-3) << names[c];
    }
    CliRun text = cairn_cli("eval " + model + " iris");
    EXPECT_NE(text.out.find("confusion matrix"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("versicolor"), std::string::npos) << text.out;
    fs::remove_all(dir);
}

// Data from another file is matched to the model by name: a test file holding one class (which it numbers 0 among
// its own classes), with its columns in another order, scores as those rows do in the model's own data; a file
// without the label column is new data that `predict` scores and `eval` refuses. Oracle: predict on iris.
TEST(TrainCli, OtherFilesAreMatchedToTheModelByName) {
    if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
    char tmpl[] = "/tmp/cairn_match_XXXXXX";
    const std::string dir = ::mkdtemp(tmpl), model = dir + "/m.safetensors";
    ASSERT_EQ(cairn_cli("train iris -q --epochs 2 --seed 3 -o " + model).status, 0);
    CliRun all = cairn_cli("predict " + model + " iris");
    ASSERT_EQ(all.status, 0) << all.out;
    const auto rows = csv_rows(all.out);  // index,predicted,label,p_setosa,p_versicolor,p_virginica
    ASSERT_EQ(rows.size(), 151u);
    const auto iris = iris_rows();
    ASSERT_EQ(iris.size(), 151u);
    ASSERT_EQ(iris[0][4], "species");

    std::ofstream virginica(dir + "/virginica.csv"), live(dir + "/live.csv");
    virginica << "species,petal_width,petal_length,sepal_width,sepal_length\n";
    live << "petal_length,sepal_length,petal_width,sepal_width\n";
    int right = 0, n = 0;
    std::vector<size_t> virginica_rows;
    for (size_t i = 1; i < iris.size(); ++i) {
        const auto& r = iris[i];
        if (r[4] == "virginica") {
            virginica << r[4] << "," << r[3] << "," << r[2] << "," << r[1] << "," << r[0] << "\n";
            ++n;
            right += rows[i][1] == "virginica";
        }
        if (i <= 5) live << r[2] << "," << r[0] << "," << r[3] << "," << r[1] << "\n";
    }
    virginica.close();
    live.close();
    ASSERT_EQ(n, 50);
    CliRun json = cairn_cli("eval " + model + " " + dir + "/virginica.csv --json");
    ASSERT_EQ(json.status, 0) << json.out;
    const Json rep = Json::parse(json.out);
    EXPECT_NEAR(rep["accuracy"].get<double>(), right / 50.0, 1e-12);
    EXPECT_EQ(rep["classes"][2]["support"], 50);
    EXPECT_GT(right, 25) << "a model this bad says little";

    CliRun scored = cairn_cli("predict " + model + " " + dir + "/live.csv");
    ASSERT_EQ(scored.status, 0) << scored.out;
    std::string expected = "index,predicted,p_setosa,p_versicolor,p_virginica\n";
    for (size_t i = 1; i <= 5; ++i)
        expected += std::to_string(i - 1) + "," + rows[i][1] + "," + rows[i][3] + "," + rows[i][4] + "," + rows[i][5] + "\n";
    EXPECT_EQ(scored.out, expected);
    CliRun refused = cairn_cli("eval " + model + " " + dir + "/live.csv");
    EXPECT_EQ(refused.status, 1);
    EXPECT_NE(refused.out.find("has no labels (no column 'species')"), std::string::npos) << refused.out;
    fs::remove_all(dir);
}

// `cairn drift` matches the live file to the reference by name: the same rows with the columns reordered and no
// label give the report of the rows as they are, and a feature moved by a constant is the one flagged.
TEST(TrainCli, DriftMatchesColumnsByNameAndFlagsTheShiftedFeature) {
    if (!cairn_binary_built()) GTEST_SKIP() << "build the cairn target first";
    char tmpl[] = "/tmp/cairn_drift_XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    std::ofstream same(dir + "/same.csv"), moved(dir + "/moved.csv");
    same << "petal_width,sepal_length,petal_length,sepal_width\n";
    moved << "sepal_length,sepal_width,petal_length,petal_width,species\n";
    const auto iris = iris_rows();
    for (size_t r = 1; r < iris.size(); ++r) {
        const std::vector<std::string>& f = iris[r];
        same << f[3] << "," << f[0] << "," << f[2] << "," << f[1] << "\n";
        moved << f[0] << "," << f[1] << "," << std::stod(f[2]) + 2.0 << "," << f[3] << "," << f[4] << "\n";
    }
    same.close();
    moved.close();
    CliRun a = cairn_cli("drift iris " + dir + "/same.csv --json"), b = cairn_cli("drift iris iris --json");
    ASSERT_EQ(a.status, 0) << a.out;
    ASSERT_EQ(b.status, 0) << b.out;
    EXPECT_EQ(Json::parse(a.out), Json::parse(b.out));
    EXPECT_EQ(Json::parse(a.out)["drifted"], 0);
    EXPECT_EQ(Json::parse(a.out)["max_ks"], 0.0);
    const Json m = Json::parse(cairn_cli("drift iris " + dir + "/moved.csv --json").out);
    ASSERT_EQ(m["features"].size(), 4u);
    for (const Json& f : m["features"]) {
        const bool shifted = f["name"] == "petal_length";
        EXPECT_EQ(f["drifted"].get<bool>(), shifted) << f.dump();
        if (shifted) EXPECT_NEAR(f["live_mean"].get<double>() - f["reference_mean"].get<double>(), 2.0, 1e-4);
    }
    CliRun text = cairn_cli("drift iris " + dir + "/moved.csv");
    EXPECT_NE(text.out.find("1 of 4 features drifted"), std::string::npos) << text.out;
    CliRun bad = cairn_cli("drift iris iris --bins 1");
    EXPECT_NE(bad.out.find("--bins: expected 2 to 1000 bins, got '1'"), std::string::npos) << bad.out;
    fs::remove_all(dir);
}

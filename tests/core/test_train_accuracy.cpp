// Accuracy on held-out test splits with fixed seeds, against the figures these datasets are known to reach
// with small models (scikit-learn's MLPClassifier / logistic regression land in the same ranges):
// iris >= 0.93, digits >= 0.96, breast_cancer >= 0.95 (bundled datasets, 20% stratified test split).
//
// Fashion-MNIST (full 60k/10k from Debian's dataset-fashion-mnist) is the "long" group, skipped unless
// CAIRN_LONG_TESTS=1: MLP 784-256-128-10 >= 0.87 after 5 epochs (measured 0.878), small CNN >= 0.89 after 3 epochs
// (measured 0.895); a few minutes natively.
//   CAIRN_LONG_TESTS=1 build/native/tests/cairn_core_tests --gtest_filter='TrainLong.*'
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/data.h"
#include "tests/core/test_util.h"
#include "core/metrics.h"
#include "core/model.h"
#include "core/preprocess.h"
#include "core/train.h"

using namespace cairn;

namespace {

struct Outcome {
    double test_accuracy = 0;
    std::vector<EpochStats> history;
};

Outcome train_and_test(const Dataset& train_raw, const Dataset& test_raw, const Json& arch, const TrainDesc& desc,
                       bool standardize = true) {
    PreprocessDesc pd;
    pd.no_standardize = !standardize;
    Preprocessing prep = fit_preprocessing(train_raw, pd);
    Dataset train = prep.apply(train_raw), test = prep.apply(test_raw);
    Model model = Model::from_json(arch, desc.seed);
    Trainer trainer(model, train, desc);
    trainer.run();
    Outcome o;
    o.history = trainer.history();
    o.test_accuracy = accuracy(test.labels, model.predict_classes(test.features));
    return o;
}

Outcome bundled(const std::string& name, const Json& arch, const TrainDesc& desc) {
    Dataset all = load_bundled_dataset(name);
    SplitDesc sd;
    sd.test = 0.2;
    sd.seed = 42;
    Split s = split_dataset(all, sd);
    return train_and_test(s.train, s.test, arch, desc);
}

Json mlp(int64_t in, int64_t classes, std::vector<int> hidden) {
    Json layers = Json::array();
    for (int h : hidden) layers.push_back({{"type", "dense"}, {"units", h}, {"activation", "relu"}});
    layers.push_back({{"type", "dense"}, {"units", classes}, {"activation", "softmax"}});
    return {{"input", {in}}, {"layers", layers}};
}

}  // namespace

TEST(TrainAccuracy, Iris) {
    TrainDesc t;
    t.epochs = 60;
    t.batch_size = 16;
    t.seed = 1;
    t.optimizer.lr = 0.01f;
    Outcome o = bundled("iris", mlp(4, 3, {16}), t);
    std::printf("[ accuracy ] iris test accuracy %.4f\n", o.test_accuracy);
    EXPECT_GE(o.test_accuracy, 0.93);
}

TEST(TrainAccuracy, DigitsMlp) {
    TrainDesc t;
    t.epochs = 20;
    t.batch_size = 32;
    t.seed = 1;
    Outcome o = bundled("digits", mlp(64, 10, {128, 64}), t);
    std::printf("[ accuracy ] digits test accuracy %.4f\n", o.test_accuracy);
    EXPECT_GE(o.test_accuracy, 0.96);
}

TEST(TrainAccuracy, BreastCancer) {
    TrainDesc t;
    t.epochs = 30;
    t.batch_size = 16;
    t.seed = 1;
    Outcome o = bundled("breast_cancer", mlp(30, 2, {32}), t);
    std::printf("[ accuracy ] breast_cancer test accuracy %.4f\n", o.test_accuracy);
    EXPECT_GE(o.test_accuracy, 0.95);
}

TEST(TrainAccuracy, BreastCancerSingleSigmoidOutput) {
    // Same problem through binary cross-entropy on one logit.
    TrainDesc t;
    t.epochs = 30;
    t.batch_size = 16;
    t.seed = 2;
    Json arch = {{"input", {30}},
                 {"layers", {{{"type", "dense"}, {"units", 32}, {"activation", "relu"}},
                             {{"type", "dense"}, {"units", 1}, {"activation", "sigmoid"}}}}};
    Outcome o = bundled("breast_cancer", arch, t);
    EXPECT_GE(o.test_accuracy, 0.95);
}

//-----------------------------------------------------------------------------
// Long: full Fashion-MNIST
//-----------------------------------------------------------------------------

namespace {

bool load_fashion(Dataset& train, Dataset& test) {
    if (!std::getenv("CAIRN_LONG_TESTS")) return false;
    const std::string dir = "/usr/share/datasets/fashion-mnist/";
    auto ti = test::read_file_bytes(dir + "train-images-idx3-ubyte.gz");
    auto tl = test::read_file_bytes(dir + "train-labels-idx1-ubyte.gz");
    auto vi = test::read_file_bytes(dir + "t10k-images-idx3-ubyte.gz");
    auto vl = test::read_file_bytes(dir + "t10k-labels-idx1-ubyte.gz");
    if (ti.empty() || vi.empty()) return false;
    train = load_idx(ti, "train-images", tl, "train-labels");
    test = load_idx(vi, "t10k-images", vl, "t10k-labels");
    return true;
}

}  // namespace

TEST(TrainLong, FashionMnistMlp5Epochs) {
    Dataset train, test;
    if (!load_fashion(train, test)) GTEST_SKIP() << "set CAIRN_LONG_TESTS=1 (needs /usr/share/datasets/fashion-mnist)";
    TrainDesc t;
    t.epochs = 5;
    t.batch_size = 64;
    t.seed = 1;
    Outcome o = train_and_test(train, test, architecture_preset("mlp", {28, 28, 1}, 10), t, false);
    std::printf("[ accuracy ] fashion-mnist MLP test accuracy %.4f\n", o.test_accuracy);
    EXPECT_GE(o.test_accuracy, 0.87);
}

TEST(TrainLong, FashionMnistCnn3Epochs) {
    Dataset train, test;
    if (!load_fashion(train, test)) GTEST_SKIP() << "set CAIRN_LONG_TESTS=1 (needs /usr/share/datasets/fashion-mnist)";
    TrainDesc t;
    t.epochs = 3;
    t.batch_size = 32;
    t.seed = 1;
    t.optimizer.lr = 2e-3f;
    Outcome o = train_and_test(train, test, architecture_preset("cnn", {28, 28, 1}, 10), t, false);
    std::printf("[ accuracy ] fashion-mnist CNN test accuracy %.4f\n", o.test_accuracy);
    EXPECT_GE(o.test_accuracy, 0.89);
}

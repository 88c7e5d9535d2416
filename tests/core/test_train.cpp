// Models and the trainer: architecture validation errors, artifact round trips, determinism, divergence,
// early stopping, checkpoint/resume, and learning a separable problem.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/model.h"
#include "core/random.h"
#include "core/train.h"

using namespace cairn;

namespace {

// Three Gaussian blobs in `dims` dimensions, well separated.
Dataset blobs(int64_t n, int64_t dims, uint64_t seed, float spread = 0.5f) {
    Dataset d;
    d.name = "blobs";
    d.features = Tensor::empty({n, dims});
    d.labels.resize(n);
    d.schema.class_names = {"a", "b", "c"};
    Rng rng(seed);
    for (int64_t i = 0; i < n; ++i) {
        int32_t c = static_cast<int32_t>(i % 3);
        d.labels[i] = c;
        for (int64_t j = 0; j < dims; ++j)
            d.features.data()[i * dims + j] = (j % 3 == c ? 2.0f : 0.0f) + spread * rng.normal();
    }
    return d;
}

Json mlp(int64_t in, int64_t classes = 3) {
    return {{"input", {in}},
            {"layers", {{{"type", "dense"}, {"units", 16}, {"activation", "relu"}},
                        {{"type", "dropout"}, {"rate", 0.1}},
                        {{"type", "dense"}, {"units", classes}, {"activation", "softmax"}}}}};
}

std::string arch_error(const Json& arch) {
    try {
        Model::from_json(arch);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "invalid_architecture");
        return e.what();
    }
    return "(no error)";
}

std::vector<float> flat_weights(Model& m) {
    std::vector<float> all;
    for (Param* p : m.params()) all.insert(all.end(), p->value.data(), p->value.data() + p->value.numel());
    return all;
}

}  // namespace

TEST(ModelJson, ValidationNamesLayerFieldExpectedAndGot) {
    auto has = [](const std::string& msg, std::initializer_list<const char*> parts) {
        for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
    };
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", -3}}}}}),
        {"layers[0].units", "expected an integer >= 1", "-3"});
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 4}}, {{"type", "dense"}, {"unit", 3}}}}}),
        {"layers[1].unit", "unknown field"});
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 3}, {"activation", "swish"}}}}}),
        {"layers[0].activation", "\"relu\"", "\"swish\""});
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "densse"}}}}}), {"layers[0].type", "\"densse\""});
    has(arch_error({{"input", {28, 28, 1}}, {"layers", {{{"type", "dense"}, {"units", 10}}}}}),
        {"layers[0]", "1-D input", "[28, 28, 1]", "flatten"});
    has(arch_error({{"input", {8, 8, 1}}, {"layers", {{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 9}}}}}),
        {"layers[0].kernel_size", "fits"});
    has(arch_error({{"input", {8, 8, 1}}, {"layers", {{{"type", "maxpool2d"}, {"pool_size", 3}}}}}),
        {"layers[0].pool_size", "2", "3"});
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "dropout"}, {"rate", 1.5}}}}}), {"layers[0].rate", "1.5"});
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 3}, {"activation", "softmax"}},
                                                {{"type", "dense"}, {"units", 3}}}}}),
        {"layers[0].activation", "softmax only on the last layer"});
    has(arch_error({{"input", {4}}, {"layers", Json::array()}}), {"layers", "non-empty"});
    has(arch_error({{"input", "784"}, {"layers", {{{"type", "flatten"}}}}}), {"input", "\"784\""});
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 1}}}}}), {"cross_entropy needs at least 2"});
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 2}, {"activation", "softmax"}}}}, {"loss", "mse"}}),
        {"loss", "\"mse\"", "softmax"});
    has(arch_error({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 2}}}}, {"optimiser", "adam"}}),
        {"optimiser", "unknown field"});
}

TEST(ModelJson, PresetsAndWeightNames) {
    Model m = Model::from_json(architecture_preset("cnn", {28, 28, 1}, 10), 1);
    std::vector<std::string> names;
    for (Param* p : m.params()) names.push_back(p->name);
    std::vector<std::string> expect = {"0.conv2d.weight", "0.conv2d.bias", "2.conv2d.weight", "2.conv2d.bias",
                                       "5.dense.weight", "5.dense.bias"};
    EXPECT_EQ(names, expect);
    EXPECT_EQ(m.params()[4]->value.shape(), (Shape{7 * 7 * 32, 10}));
    EXPECT_EQ(m.num_outputs(), 10);
    Model mlp = Model::from_json(architecture_preset("mlp", {784}, 10));
    EXPECT_EQ(mlp.num_parameters(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    EXPECT_THROW(architecture_preset("resnet", {784}, 10), Error);
}

TEST(ModelJson, SeededInitIsHeOrGlorot) {
    Model a = Model::from_json(mlp(400), 7), b = Model::from_json(mlp(400), 7), c = Model::from_json(mlp(400), 8);
    EXPECT_EQ(flat_weights(a), flat_weights(b));
    EXPECT_NE(flat_weights(a), flat_weights(c));
    // He normal for the ReLU layer: std sqrt(2/400); Glorot uniform for the output: |w| <= sqrt(6/(16+3)).
    const Tensor& w0 = a.params()[0]->value;
    double ss = 0;
    for (int64_t i = 0; i < w0.numel(); ++i) ss += w0.data()[i] * w0.data()[i];
    EXPECT_NEAR(std::sqrt(ss / w0.numel()), std::sqrt(2.0 / 400), 0.004);
    const Tensor& w1 = a.params()[2]->value;
    for (int64_t i = 0; i < w1.numel(); ++i) EXPECT_LE(std::abs(w1.data()[i]), std::sqrt(6.0 / 19) + 1e-6);
    for (int64_t i = 0; i < 16; ++i) EXPECT_EQ(a.params()[1]->value.data()[i], 0);
}

TEST(ModelJson, ArtifactRoundTripAndPredictProba) {
    Model m = Model::from_json(mlp(6), 3);
    ModelArtifact a = m.to_artifact();
    EXPECT_EQ(a.weights[0].name, "0.dense.weight");
    Model back = Model::from_artifact(a);
    Dataset d = blobs(10, 6, 1);
    Tensor p1 = m.predict_proba(d.features), p2 = back.predict_proba(d.features, 3);
    ASSERT_EQ(p1.shape(), (Shape{10, 3}));
    for (int64_t i = 0; i < p1.numel(); ++i) EXPECT_EQ(p1.data()[i], p2.data()[i]);
    for (int64_t i = 0; i < 10; ++i) EXPECT_NEAR(p1.at({i, 0}) + p1.at({i, 1}) + p1.at({i, 2}), 1, 1e-6);
    a.weights[0].tensor = Tensor::zeros({5, 16});
    try {
        Model::from_artifact(a);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "invalid_artifact");
        EXPECT_NE(std::string(e.what()).find("0.dense.weight"), std::string::npos);
    }
    a.weights.pop_back();
    EXPECT_THROW(Model::from_artifact(a), Error);
    // A single sigmoid output gives [1-p, p].
    Model bin = Model::from_json({{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 1}, {"activation", "sigmoid"}}}}});
    EXPECT_EQ(bin.loss(), LossKind::binary_cross_entropy);
    Tensor pb = bin.predict_proba(Tensor::from({1, 2}, {0.3f, -0.2f}));
    ASSERT_EQ(pb.shape(), (Shape{1, 2}));
    EXPECT_NEAR(pb.at({0, 0}) + pb.at({0, 1}), 1, 1e-6);
}

TEST(Train, LearnsBlobsAndReportsHistory) {
    Dataset d = blobs(300, 6, 2);
    Model m = Model::from_json(mlp(6), 1);
    TrainDesc t;
    t.epochs = 8;
    t.batch_size = 16;
    t.validation_split = 0.2f;
    t.seed = 5;
    t.optimizer.lr = 0.01f;
    Trainer tr(m, d, t);
    EXPECT_EQ(tr.validation_size(), 60u);
    EXPECT_EQ(tr.batches_per_epoch(), 15);
    int steps = 0;
    while (tr.step()) ++steps;
    EXPECT_EQ(steps + 1, 8 * 15);
    EXPECT_EQ(tr.stop_reason(), "completed");
    ASSERT_EQ(tr.history().size(), 8u);
    EXPECT_LT(tr.history().back().loss, tr.history().front().loss);
    EXPECT_GE(tr.history().back().val_accuracy, 0.95);
    EXPECT_GE(evaluate(m, d).accuracy, 0.95);
}

// Macro precision, recall and F1 counted by hand from the model's own predictions: the oracle for evaluate().
struct HandScores {
    double accuracy = 0, precision = 0, recall = 0, f1 = 0;
};
HandScores hand_scores(Model& m, const Dataset& d, const std::vector<int64_t>& rows, int classes) {
    Tensor p = m.predict_proba(d.features);
    std::vector<int64_t> tp(classes), predicted(classes), actual(classes);
    HandScores h;
    for (int64_t r : rows) {
        int best = 0;
        for (int c = 1; c < classes; ++c) best = p.at({r, c}) > p.at({r, best}) ? c : best;
        const int truth = d.labels[static_cast<size_t>(r)];
        ++predicted[best], ++actual[truth];
        if (best == truth) ++tp[best], h.accuracy += 1.0 / double(rows.size());
    }
    for (int c = 0; c < classes; ++c) {
        double prec = predicted[c] ? double(tp[c]) / predicted[c] : 0, rec = actual[c] ? double(tp[c]) / actual[c] : 0;
        h.precision += prec / classes, h.recall += rec / classes;
        h.f1 += (prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0) / classes;
    }
    return h;
}

// evaluate() scores exactly the rows it is given, for softmax and for a single sigmoid output (two classes), and
// to_json() is the registry's record of a split. The blobs overlap so that every score is below 1.
TEST(Train, EvaluateScoresTheGivenRowsAsCountedByHand) {
    Dataset d = blobs(240, 4, 7, 1.6f);
    Model m = Model::from_json(mlp(4), 3);
    TrainDesc t;
    t.epochs = 2;
    t.seed = 1;
    Trainer(m, d, t).run();
    std::vector<int64_t> odd;
    for (int64_t i = 1; i < d.size(); i += 2) odd.push_back(i);
    EvalResult r = evaluate(m, d, odd, 32);  // a batch size that does not divide the rows
    HandScores h = hand_scores(m, d, odd, 3);
    EXPECT_EQ(r.samples, 120);
    ASSERT_TRUE(r.has_accuracy);
    EXPECT_LT(h.f1, 0.99);
    EXPECT_NEAR(r.accuracy, h.accuracy, 1e-12);
    EXPECT_NEAR(r.macro_precision, h.precision, 1e-12);
    EXPECT_NEAR(r.macro_recall, h.recall, 1e-12);
    EXPECT_NEAR(r.macro_f1, h.f1, 1e-12);
    Json j = r.to_json();
    EXPECT_EQ(j["samples"], 120);
    EXPECT_DOUBLE_EQ(j["macro_f1"].get<double>(), r.macro_f1);
    for (const char* k : {"loss", "accuracy", "macro_precision", "macro_recall"}) EXPECT_TRUE(j.contains(k)) << k;

    Dataset two = d;
    for (auto& y : two.labels) y = y == 0 ? 1 : 0;
    two.schema.class_names = {"rest", "a"};
    Model bin = Model::from_json({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 1}, {"activation", "sigmoid"}}}}}, 2);
    Trainer(bin, two, t).run();
    EvalResult rb = evaluate(bin, two);
    std::vector<int64_t> all(static_cast<size_t>(two.size()));
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    HandScores hb = hand_scores(bin, two, all, 2);
    EXPECT_NEAR(rb.accuracy, hb.accuracy, 1e-12);
    EXPECT_NEAR(rb.macro_f1, hb.f1, 1e-12);
    EXPECT_NEAR(rb.macro_precision, hb.precision, 1e-12);
}

// The registry's training history: one column per quantity, read back by training_curves; validation columns
// only with validation data, accuracy only for classifiers. Rows stored by earlier command-line builds still read.
TEST(Train, TrainingHistoryColumnsAndLegacyRows) {
    Dataset d = blobs(200, 4, 2);
    TrainDesc t;
    t.epochs = 4;
    t.batch_size = 20;
    t.seed = 3;
    t.optimizer.lr = 0.1f;
    for (float split : {0.0f, 0.25f}) {
        Model m = Model::from_json(mlp(4), 1);
        t.validation_split = split;
        Trainer tr(m, d, t);
        tr.run();
        Json h = training_history_json(tr);
        ASSERT_EQ(h["loss"].size(), 4u) << h.dump();
        ASSERT_EQ(h["accuracy"].size(), 4u);
        EXPECT_EQ(h.contains("val_loss"), split > 0) << h.dump();
        EXPECT_EQ(h.contains("val_accuracy"), split > 0);
        EXPECT_EQ(h["lr"][0], 0.1);  // as typed, not 0.10000000149011612
        EXPECT_EQ(h["stop_reason"], "completed");
        TrainingCurves c = training_curves(h);
        ASSERT_EQ(c.loss.size(), 4u);
        for (size_t e = 0; e < 4; ++e) {
            EXPECT_EQ(c.loss[e], tr.history()[e].loss);
            EXPECT_EQ(c.accuracy[e], tr.history()[e].accuracy);
            if (split > 0) EXPECT_EQ(c.val_loss[e], tr.history()[e].val_loss);
        }
        EXPECT_EQ(c.val_loss.size(), split > 0 ? 4u : 0u);
        EXPECT_EQ(c.best_epoch, 0);  // no early stopping
        EXPECT_EQ(tr.restored_epoch(), 0);
    }
    Json rows_no_val = {{"epochs", {{{"epoch", 1}, {"loss", 0.9}, {"accuracy", 0.5}, {"val_loss", 0}, {"val_accuracy", 0}},
                                    {{"epoch", 2}, {"loss", 0.4}, {"accuracy", 0.8}, {"val_loss", 0}, {"val_accuracy", 0}}}}};
    TrainingCurves legacy = training_curves(rows_no_val);
    EXPECT_EQ(legacy.loss, (std::vector<double>{0.9, 0.4}));
    EXPECT_EQ(legacy.accuracy, (std::vector<double>{0.5, 0.8}));
    EXPECT_TRUE(legacy.val_loss.empty());
    EXPECT_TRUE(legacy.val_accuracy.empty());
    Json rows_val = {{"epochs", {{{"loss", 0.9}, {"val_loss", 1.1}, {"val_accuracy", 0.0}}, {{"loss", 0.4}, {"val_loss", 0.7}, {"val_accuracy", 0.5}}}}};
    legacy = training_curves(rows_val);
    EXPECT_EQ(legacy.val_loss, (std::vector<double>{1.1, 0.7}));
    EXPECT_EQ(legacy.val_accuracy, (std::vector<double>{0.0, 0.5}));
    EXPECT_TRUE(training_curves(Json()).loss.empty());
    EXPECT_TRUE(training_curves(Json{{"loss", "not an array"}}).loss.empty());
}

TEST(Train, SameSeedGivesBitIdenticalWeights) {
    Dataset d = blobs(120, 5, 3);
    auto train = [&](uint64_t seed) {
        Model m = Model::from_json(mlp(5), seed);
        TrainDesc t;
        t.epochs = 3;
        t.batch_size = 8;
        t.seed = seed;
        t.validation_split = 0.25f;
        Trainer(m, d, t).run();
        return flat_weights(m);
    };
    std::vector<float> a = train(11), b = train(11), c = train(12);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
    EXPECT_NE(a, c);
}

TEST(Train, NonFiniteLossStopsWithDivergedNamingEpochAndBatch) {
    Dataset d = blobs(64, 4, 4, 1.0f);
    Model m = Model::from_json(mlp(4), 1);
    TrainDesc t;
    t.epochs = 5;
    t.batch_size = 8;
    t.optimizer.type = "sgd";
    t.optimizer.lr = 1e30f;
    Trainer tr(m, d, t);
    try {
        tr.run();
        FAIL() << "expected divergence";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "diverged");
        std::string msg = e.what();
        EXPECT_NE(msg.find("epoch 1, batch "), std::string::npos) << msg;
    }
    EXPECT_TRUE(tr.done());
    EXPECT_EQ(tr.stop_reason(), "diverged");
    EXPECT_FALSE(tr.step());
    // A weight turning NaN mid-training (here: the output bias after two steps) stops at the next batch, whatever
    // the kernels do with NaN inside (the model output is checked, not just the loss).
    Model m2 = Model::from_json(mlp(4), 1);
    TrainDesc t2;
    t2.batch_size = 4;
    Trainer tr2(m2, d, t2);
    tr2.step();
    tr2.step();
    m2.params().back()->value.data()[0] = NAN;
    try {
        tr2.run();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "diverged");
        EXPECT_NE(std::string(e.what()).find("epoch 1, batch 3"), std::string::npos) << e.what();
    }
    // NaN in the data is refused up front, naming the sample and feature.
    Dataset bad = blobs(16, 4, 5);
    bad.features.data()[9 * 4 + 2] = NAN;
    try {
        Trainer tr3(m2, bad, TrainDesc{});
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("sample 9, feature 2 is NaN"), std::string::npos) << e.what();
    }
}

TEST(Train, EarlyStoppingRestoresBestWeights) {
    // Tiny training set, large model and learning rate: validation loss turns up quickly.
    Dataset d = blobs(60, 6, 6, 1.5f);
    Model m = Model::from_json(mlp(6), 2);
    TrainDesc t;
    t.epochs = 60;
    t.batch_size = 4;
    t.validation_split = 0.5f;
    t.seed = 1;
    t.optimizer.lr = 0.05f;
    t.early_stopping.patience = 3;
    Trainer tr(m, d, t);
    std::vector<std::vector<float>> per_epoch;
    while (!tr.done()) {
        tr.step();
        if (tr.batch() == 0 && tr.history().size() > per_epoch.size()) per_epoch.push_back(flat_weights(m));
    }
    ASSERT_EQ(tr.stop_reason(), "early_stopping");
    int best = tr.best_epoch();
    ASSERT_GE(best, 1);
    EXPECT_EQ(static_cast<int>(tr.history().size()), best + 3);
    for (const EpochStats& s : tr.history()) EXPECT_GE(s.val_loss, tr.history()[best - 1].val_loss);
    // The model now holds the best epoch's weights (snapshotted at that epoch's end, before restore).
    EXPECT_EQ(flat_weights(m), per_epoch[best - 1]);
    EXPECT_EQ(tr.restored_epoch(), best);
    EXPECT_EQ(training_curves(training_history_json(tr)).best_epoch, best);
    // keep_last leaves the last epoch's weights, and says so.
    Model last = Model::from_json(mlp(6), 2);
    TrainDesc keep = t;
    keep.early_stopping.keep_last = true;
    Trainer tk(last, d, keep);
    tk.run();
    EXPECT_EQ(tk.best_epoch(), best);
    EXPECT_EQ(tk.restored_epoch(), 0);
    TrainDesc no_val;
    no_val.early_stopping.patience = 2;
    try {
        Trainer bad(m, d, no_val);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("train.early_stopping.patience"), std::string::npos) << e.what();
    }
}

TEST(Train, CheckpointResumeMatchesUninterruptedRun) {
    Dataset d = blobs(90, 5, 7);
    TrainDesc t;
    t.epochs = 4;
    t.batch_size = 10;
    t.seed = 3;
    t.optimizer.type = "adam";
    Model full = Model::from_json(mlp(5), 9);
    Trainer(full, d, t).run();

    Model first = Model::from_json(mlp(5), 9);
    Trainer a(first, d, t);
    while (a.epoch() < 2) a.step();
    ModelArtifact ck = a.checkpoint();
    a.cancel();
    EXPECT_EQ(a.stop_reason(), "cancelled");
    Model second = Model::from_artifact(ck);
    Trainer b(second, d, t);
    b.resume(ck);
    EXPECT_EQ(b.epoch(), 2);
    EXPECT_EQ(b.optimizer().steps(), 2 * 9);
    b.run();
    EXPECT_EQ(flat_weights(second), flat_weights(full));
}

TEST(Train, DescriptorValidationNamesField) {
    Dataset d = blobs(30, 4, 8);
    Model m = Model::from_json(mlp(4), 1);
    auto err = [&](TrainDesc t) {
        try {
            Trainer tr(m, d, t);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    TrainDesc t;
    t.batch_size = -1;
    EXPECT_NE(err(t).find("train.batch_size"), std::string::npos);
    t = {};
    t.validation_split = 0.95f;
    EXPECT_NE(err(t).find("train.validation_split"), std::string::npos);
    t = {};
    t.optimizer.lr = -2;
    EXPECT_NE(err(t).find("optimizer.lr"), std::string::npos);
    Dataset wrong = blobs(30, 5, 8);
    EXPECT_THROW(Trainer(m, wrong, TrainDesc{}), Error);
}

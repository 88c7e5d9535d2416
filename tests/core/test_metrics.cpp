// Metrics against hand-computed values (tests/core/test_metrics_sklearn.cpp compares with scikit-learn).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/metrics.h"

using namespace cairn;

TEST(Metrics, HandComputedClassification) {
    // Confusion [[2,1,0],[0,1,1],[0,0,1]] plus a class "d" that is never true nor predicted (zero division -> 0).
    std::vector<int32_t> t = {0, 0, 0, 1, 1, 2}, p = {0, 0, 1, 1, 2, 2};
    ClassificationReport r = evaluate_classification(t, p, {"a", "b", "c", "d"});
    EXPECT_EQ(r.confusion, (ConfusionMatrix{{2, 1, 0, 0}, {0, 1, 1, 0}, {0, 0, 1, 0}, {0, 0, 0, 0}}));
    EXPECT_DOUBLE_EQ(r.accuracy, 4.0 / 6);
    EXPECT_DOUBLE_EQ(r.per_class[0].precision, 1.0);
    EXPECT_DOUBLE_EQ(r.per_class[0].recall, 2.0 / 3);
    EXPECT_NEAR(r.per_class[0].f1, 0.8, 1e-12);
    EXPECT_DOUBLE_EQ(r.per_class[1].precision, 0.5);
    EXPECT_DOUBLE_EQ(r.per_class[1].f1, 0.5);
    EXPECT_DOUBLE_EQ(r.per_class[2].recall, 1.0);
    EXPECT_NEAR(r.per_class[2].f1, 2.0 / 3, 1e-12);
    EXPECT_EQ(r.per_class[3].precision, 0.0);
    EXPECT_EQ(r.per_class[3].f1, 0.0);
    EXPECT_EQ(r.per_class[2].support, 1);
    EXPECT_NEAR(r.macro_precision, (1 + 0.5 + 0.5 + 0) / 4, 1e-12);
    EXPECT_NEAR(r.macro_recall, (2.0 / 3 + 0.5 + 1) / 4, 1e-12);
    EXPECT_NEAR(r.macro_f1, (0.8 + 0.5 + 2.0 / 3) / 4, 1e-12);
    EXPECT_NEAR(r.weighted_precision, (3 * 1.0 + 2 * 0.5 + 1 * 0.5) / 6, 1e-12);
    EXPECT_NEAR(r.weighted_recall, 4.0 / 6, 1e-12);  // weighted recall is accuracy
    EXPECT_NEAR(r.weighted_f1, (3 * 0.8 + 2 * 0.5 + 2.0 / 3) / 6, 1e-12);
    Json j = r.to_json();
    EXPECT_EQ(j["classes"][3]["name"], "d");
    EXPECT_EQ(j["confusion"][0][1], 1);
    EXPECT_FALSE(j.contains("roc"));
    EXPECT_THROW(evaluate_classification(t, std::vector<int32_t>{0, 0, 1, 1, 2, 4}, {"a", "b", "c", "d"}), Error);
    EXPECT_THROW(accuracy(t, {0, 1}), Error);
}

TEST(Metrics, RocWithTiesAndAuc) {
    // Scores 0.9 (pos), 0.9 (neg), 0.5 (pos), 0.1 (neg): the tie is one diagonal step worth half a pair.
    RocCurve r = roc_curve({1, 0, 1, 0}, {0.9f, 0.9f, 0.5f, 0.1f});
    EXPECT_EQ(r.fpr, (std::vector<double>{0, 0.5, 0.5, 1}));
    EXPECT_EQ(r.tpr, (std::vector<double>{0, 0.5, 1, 1}));
    EXPECT_NEAR(r.thresholds[1], 0.9, 1e-6);
    EXPECT_NEAR(r.auc, 2.5 / 4, 1e-12);  // Mann-Whitney: (0.5 + 1 + 0 + 1) / 4 pairs
    EXPECT_NEAR(roc_curve({1, 1, 0, 0}, {0.8f, 0.7f, 0.2f, 0.1f}).auc, 1.0, 1e-12);
    EXPECT_NEAR(roc_curve({0, 0, 1, 1}, {0.8f, 0.7f, 0.2f, 0.1f}).auc, 0.0, 1e-12);
    EXPECT_NEAR(roc_curve({1, 0, 1, 0}, {0.5f, 0.5f, 0.5f, 0.5f}).auc, 0.5, 1e-12);
    EXPECT_TRUE(std::isnan(roc_curve({1, 1}, {0.2f, 0.3f}).auc));
}

TEST(Metrics, ProbabilitiesReportLogLossAndOvrAuc) {
    Tensor prob = Tensor::from({4, 2}, {0.8f, 0.2f, 0.4f, 0.6f, 0.3f, 0.7f, 0.6f, 0.4f});
    std::vector<int32_t> y = {0, 1, 1, 1};
    ClassificationReport r = evaluate_classification(y, prob, {"neg", "pos"});
    EXPECT_NEAR(r.log_loss, -(std::log(0.8) + std::log(0.6) + std::log(0.7) + std::log(0.4)) / 4, 1e-6);
    EXPECT_EQ(argmax_rows(prob), (std::vector<int32_t>{0, 1, 1, 0}));
    EXPECT_DOUBLE_EQ(r.accuracy, 0.75);
    // Positive scores 0.6, 0.7, 0.4 vs the negative's 0.2: all ranked above -> AUC 1 for both classes.
    EXPECT_NEAR(r.roc[1].auc, 1.0, 1e-12);
    EXPECT_NEAR(r.macro_auc, 1.0, 1e-12);
    // A confident wrong answer is clipped, not infinite: -log(1e-15) for that sample.
    Tensor hard = Tensor::from({1, 2}, {1.0f, 0.0f});
    EXPECT_NEAR(log_loss({1}, hard), -std::log(1e-15), 1e-6);
    Json j = r.to_json(2);
    EXPECT_EQ(j["roc"][1]["fpr"].size(), 2u);
    EXPECT_NEAR(j["log_loss"].get<double>(), r.log_loss, 1e-12);
}

TEST(Metrics, Regression) {
    RegressionReport r = evaluate_regression(Tensor::from({4}, {1, 2, 3, 4}), Tensor::from({4}, {1, 2, 3, 5}));
    EXPECT_NEAR(r.mse, 0.25, 1e-12);
    EXPECT_NEAR(r.mae, 0.25, 1e-12);
    EXPECT_NEAR(r.r2, 1 - 1.0 / 5.0, 1e-12);
    // Two outputs are averaged; a constant perfectly predicted target has R^2 = 1.
    RegressionReport m = evaluate_regression(Tensor::from({2, 2}, {1, 5, 3, 5}), Tensor::from({2, 2}, {1, 5, 2, 5}));
    EXPECT_NEAR(m.mse, (0.5 + 0) / 2, 1e-12);
    EXPECT_NEAR(m.r2, ((1 - 1.0 / 2.0) + 1) / 2, 1e-12);
    EXPECT_EQ(r.to_json()["kind"], "regression");
    EXPECT_THROW(evaluate_regression(Tensor::zeros({3, 1}), Tensor::zeros({2, 1})), Error);
}

TEST(Drift, PsiAndKsByHand) {
    std::vector<float> ref = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    // Two bins split at the reference's median element 5: reference 60% / 40%, live 100% / 0 (floored at 1e-4).
    double want = (1 - 0.6) * std::log(1 / 0.6) + (1e-4 - 0.4) * std::log(1e-4 / 0.4);
    EXPECT_NEAR(population_stability_index(ref, {0, 0, 0, 0}, 2), want, 1e-9);
    EXPECT_NEAR(population_stability_index(ref, ref, 10), 0.0, 1e-12);
    EXPECT_NEAR(ks_statistic({1, 2, 3, 4}, {3, 4, 5, 6}), 0.5, 1e-12);
    EXPECT_NEAR(ks_statistic(ref, ref), 0.0, 1e-12);
    EXPECT_NEAR(ks_statistic({1, 1, 1}, {2, 2}), 1.0, 1e-12);
}

TEST(Drift, ReportFlagsShiftedFeatureOnly) {
    const int64_t n = 400;
    Tensor a = Tensor::empty({n, 2}), b = Tensor::empty({n / 2, 2});
    for (int64_t i = 0; i < n; ++i) {
        a.at({i, 0}) = static_cast<float>(i % 100);
        a.at({i, 1}) = static_cast<float>((i * 37) % 100);
    }
    for (int64_t i = 0; i < n / 2; ++i) {
        b.at({i, 0}) = static_cast<float>((i * 2) % 100);       // same distribution
        b.at({i, 1}) = static_cast<float>(60 + (i * 37) % 40);  // moved to the top 40%
    }
    DriftReport r = compute_drift(a, b, {"stable", "moved"});
    ASSERT_EQ(r.features.size(), 2u);
    EXPECT_FALSE(r.features[0].drifted);
    EXPECT_LT(r.features[0].psi, 0.05);
    EXPECT_TRUE(r.features[1].drifted);
    EXPECT_GT(r.features[1].psi, 1.0);
    EXPECT_NEAR(r.features[1].ks, 0.6, 1e-9);
    EXPECT_EQ(r.drifted, 1);
    EXPECT_EQ(r.to_json()["features"][1]["name"], "moved");
    // Images: one entry per channel, over per-sample mean intensity.
    Tensor im = Tensor::full({8, 2, 2, 1}, 0.5f), live = Tensor::full({4, 2, 2, 1}, 0.9f);
    DriftReport ri = compute_drift(im, live);
    ASSERT_EQ(ri.features.size(), 1u);
    EXPECT_EQ(ri.features[0].name, "channel_0");
    EXPECT_NEAR(ri.features[0].ks, 1.0, 1e-12);
    EXPECT_TRUE(ri.features[0].drifted);
    EXPECT_THROW(compute_drift(a, Tensor::zeros({3, 5})), Error);
}

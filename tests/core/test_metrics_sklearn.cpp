// core/metrics against scikit-learn: tests/sklearn/metrics_oracle.py writes reference values (the ctest fixture
// "sklearn_oracle" runs it) and these tests recompute them from the same inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/metrics.h"

using namespace cairn;

namespace {

#ifndef CAIRN_BINARY_DIR
#define CAIRN_BINARY_DIR ""
#endif

// The oracle's JSON, or null (the test is skipped) when it has not been generated. When ctest runs the comparison
// as its own test it sets CAIRN_REQUIRE_SKLEARN_ORACLE, and a missing file fails instead.
Json load_oracle() {
    std::string path = std::string(CAIRN_BINARY_DIR) + "/sklearn_oracle.json";
    if (const char* p = std::getenv("CAIRN_SKLEARN_ORACLE")) path = p;
    std::ifstream f(path);
    if (!f) {
        if (std::getenv("CAIRN_REQUIRE_SKLEARN_ORACLE")) ADD_FAILURE() << "missing " << path;
        return nullptr;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return Json::parse(ss.str());
}

void expect_near_vec(const Json& want, const std::vector<double>& got, double tol, const std::string& what) {
    ASSERT_EQ(want.size(), got.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i].get<double>(), tol) << what << "[" << i << "]";
}

}  // namespace

TEST(MetricsSklearn, Classification) {
    Json doc = load_oracle();
    if (doc.is_null()) GTEST_SKIP() << "no sklearn oracle output: run `ctest -R sklearn` (needs /usr/bin/python3 with sklearn)";
    ASSERT_GE(doc["classification"].size(), 3u);
    for (const Json& c : doc["classification"]) {
        const std::string name = c["name"];
        SCOPED_TRACE(name);
        const int64_t k = c["k"];
        std::vector<int32_t> y = c["y_true"].get<std::vector<int32_t>>();
        std::vector<float> p = c["proba"].get<std::vector<float>>();
        const int64_t n = static_cast<int64_t>(y.size());
        Tensor prob = Tensor::from({n, k}, p.data());
        std::vector<std::string> classes;
        for (int64_t i = 0; i < k; ++i) classes.push_back("c" + std::to_string(i));
        ClassificationReport r = evaluate_classification(y, prob, classes);
        EXPECT_EQ(argmax_rows(prob), c["y_pred"].get<std::vector<int32_t>>());
        EXPECT_NEAR(r.accuracy, c["accuracy"].get<double>(), 1e-12);
        std::vector<double> pr, rc, f1;
        for (int64_t i = 0; i < k; ++i) {
            pr.push_back(r.per_class[static_cast<size_t>(i)].precision);
            rc.push_back(r.per_class[static_cast<size_t>(i)].recall);
            f1.push_back(r.per_class[static_cast<size_t>(i)].f1);
            EXPECT_EQ(r.per_class[static_cast<size_t>(i)].support, c["support"][static_cast<size_t>(i)].get<int64_t>());
        }
        expect_near_vec(c["precision"], pr, 1e-12, "precision");
        expect_near_vec(c["recall"], rc, 1e-12, "recall");
        expect_near_vec(c["f1"], f1, 1e-12, "f1");
        EXPECT_NEAR(r.macro_precision, c["macro"]["precision"].get<double>(), 1e-12);
        EXPECT_NEAR(r.macro_recall, c["macro"]["recall"].get<double>(), 1e-12);
        EXPECT_NEAR(r.macro_f1, c["macro"]["f1"].get<double>(), 1e-12);
        EXPECT_NEAR(r.weighted_precision, c["weighted"]["precision"].get<double>(), 1e-12);
        EXPECT_NEAR(r.weighted_recall, c["weighted"]["recall"].get<double>(), 1e-12);
        EXPECT_NEAR(r.weighted_f1, c["weighted"]["f1"].get<double>(), 1e-12);
        EXPECT_EQ(r.confusion, c["confusion"].get<ConfusionMatrix>());
        EXPECT_NEAR(r.log_loss, c["log_loss"].get<double>(), 1e-9);
        for (int64_t i = 0; i < k; ++i) {
            const Json& want = c["roc"][static_cast<size_t>(i)];
            const RocCurve& got = r.roc[static_cast<size_t>(i)];
            if (want.is_null()) {
                EXPECT_TRUE(std::isnan(got.auc)) << "class " << i << " has no positives: AUC undefined";
                continue;
            }
            EXPECT_NEAR(got.auc, c["auc"][static_cast<size_t>(i)].get<double>(), 1e-12) << "class " << i;
            expect_near_vec(want["fpr"], got.fpr, 1e-12, "fpr");
            expect_near_vec(want["tpr"], got.tpr, 1e-12, "tpr");
            expect_near_vec(want["thresholds"], std::vector<double>(got.thresholds.begin() + 1, got.thresholds.end()),
                            1e-12, "thresholds");
        }
        EXPECT_NEAR(r.macro_auc, c["macro_auc"].get<double>(), 1e-12);
        if (c.contains("sklearn_macro_auc")) EXPECT_NEAR(r.macro_auc, c["sklearn_macro_auc"].get<double>(), 1e-12);
    }
}

TEST(MetricsSklearn, RegressionAndKs) {
    Json doc = load_oracle();
    if (doc.is_null()) GTEST_SKIP() << "no sklearn oracle output: run `ctest -R sklearn` (needs /usr/bin/python3 with sklearn)";
    for (const Json& c : doc["regression"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const int64_t k = c["k"];
        std::vector<float> t = c["y_true"].get<std::vector<float>>(), p = c["y_pred"].get<std::vector<float>>();
        const int64_t n = static_cast<int64_t>(t.size()) / k;
        RegressionReport r = evaluate_regression(Tensor::from({n, k}, t.data()), Tensor::from({n, k}, p.data()));
        EXPECT_NEAR(r.mse, c["mse"].get<double>(), 1e-9);
        EXPECT_NEAR(r.mae, c["mae"].get<double>(), 1e-9);
        EXPECT_NEAR(r.r2, c["r2"].get<double>(), 1e-9);
    }
    ASSERT_GE(doc["ks"].size(), 1u);
    for (const Json& c : doc["ks"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        EXPECT_NEAR(ks_statistic(c["reference"].get<std::vector<float>>(), c["live"].get<std::vector<float>>()),
                    c["ks"].get<double>(), 1e-12);
    }
}

// Evaluation metrics (classification, ROC, regression), their JSON report, and input drift.
//
// Definitions follow scikit-learn's defaults so results can be checked against it (tests/sklearn/):
// precision/recall/F1 with zero division -> 0, one-vs-rest ROC with tied scores as one point, AUC by the
// trapezoidal rule, log-loss on clipped and re-normalized probabilities, R^2 = 1 - SS_res / SS_tot.
//
// Index of this file
// [SECTION] Classification
// [SECTION] ROC
// [SECTION] Regression
// [SECTION] Reports (JSON)
// [SECTION] Drift
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/artifact.h"
#include "core/tensor.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Classification
//-----------------------------------------------------------------------------
// Labels are class indices in [0, num_classes); anything else is an Error("invalid_argument").

using ConfusionMatrix = std::vector<std::vector<int64_t>>;  // [true class][predicted class]

double accuracy(const std::vector<int32_t>& y_true, const std::vector<int32_t>& y_pred);
ConfusionMatrix confusion_matrix(const std::vector<int32_t>& y_true, const std::vector<int32_t>& y_pred,
                                 int64_t num_classes);

struct ClassScores {
    double precision = 0, recall = 0, f1 = 0;
    int64_t support = 0;  // true samples of the class
};
std::vector<ClassScores> per_class_scores(const ConfusionMatrix& cm);

// Row-wise argmax of [n, k] scores (first maximum wins).
std::vector<int32_t> argmax_rows(const Tensor& scores);

// Mean of -log p(true class); probabilities [n, k] are clipped to [eps, 1 - eps] and each row re-normalized.
double log_loss(const std::vector<int32_t>& y_true, const Tensor& probabilities, double eps = 1e-15);

//-----------------------------------------------------------------------------
// [SECTION] ROC
//-----------------------------------------------------------------------------

struct RocCurve {
    std::vector<double> fpr, tpr, thresholds;  // thresholds decreasing; the first is max score + 1 (sklearn 1.2)
    double auc = 0;                            // NaN when the positives or the negatives are missing
};

// Binary ROC of `scores` for positive = (is_positive[i] != 0); every distinct score is one point
// (sklearn's roc_curve with drop_intermediate=False).
RocCurve roc_curve(const std::vector<uint8_t>& is_positive, const std::vector<float>& scores);
// One-vs-rest curve for class c of [n, k] scores.
RocCurve roc_curve_ovr(const std::vector<int32_t>& y_true, const Tensor& scores, int32_t c);

//-----------------------------------------------------------------------------
// [SECTION] Regression
//-----------------------------------------------------------------------------
// Multi-output [n, k] inputs are averaged uniformly over the k outputs (sklearn's "uniform_average").

struct RegressionReport {
    int64_t n = 0;
    double mse = 0, mae = 0, r2 = 0;
    Json to_json() const;
};
RegressionReport evaluate_regression(const Tensor& y_true, const Tensor& y_pred);

//-----------------------------------------------------------------------------
// [SECTION] Reports (JSON)
//-----------------------------------------------------------------------------

struct ClassificationReport {
    int64_t n = 0;
    std::vector<std::string> class_names;
    double accuracy = 0;
    std::vector<ClassScores> per_class;
    double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
    double weighted_precision = 0, weighted_recall = 0, weighted_f1 = 0;
    ConfusionMatrix confusion;
    // Only when probabilities were given:
    bool has_probabilities = false;
    double log_loss = 0;
    std::vector<RocCurve> roc;  // one-vs-rest, one per class
    double macro_auc = 0;       // mean over the classes whose AUC is defined (NaN if none)

    // {"kind":"classification","n","accuracy","classes":[{"name","precision","recall","f1","support","auc"}],
    //  "macro":{..},"weighted":{..},"confusion":[[..]],"log_loss","macro_auc","roc":[{"fpr","tpr"}]}
    // NaN is written as null. ROC curves are thinned to at most `max_roc_points` points each (0 = all).
    Json to_json(size_t max_roc_points = 200) const;
};

// From predicted labels only.
ClassificationReport evaluate_classification(const std::vector<int32_t>& y_true, const std::vector<int32_t>& y_pred,
                                             const std::vector<std::string>& class_names);
// From [n, k] class probabilities (softmax outputs): predictions are the row-wise argmax; adds log-loss and ROC.
ClassificationReport evaluate_classification(const std::vector<int32_t>& y_true, const Tensor& probabilities,
                                             const std::vector<std::string>& class_names);

//-----------------------------------------------------------------------------
// [SECTION] Drift
//-----------------------------------------------------------------------------
// Compares live inputs with a reference (usually the training data) feature by feature. Tabular [n, d]: one entry
// per column. Images [n, h, w, c]: one entry per channel, over each sample's mean intensity of that channel.
//   PSI = sum over bins (live% - ref%) * ln(live% / ref%), bins = reference quantiles, empty bins at 1e-4.
//   KS  = max |F_ref(x) - F_live(x)| (two-sample Kolmogorov-Smirnov statistic).
// Rule of thumb: PSI < 0.1 stable, 0.1-0.25 moderate, > 0.25 significant shift.

struct DriftDesc {
    int bins = 0;                 // 0 = 10 quantile bins
    double psi_threshold = 0;     // 0 = 0.25; a feature drifts when PSI exceeds it
};

struct FeatureDrift {
    std::string name;
    double psi = 0, ks = 0;
    double reference_mean = 0, live_mean = 0;
    bool drifted = false;
};

struct DriftReport {
    int64_t reference_n = 0, live_n = 0;
    std::vector<FeatureDrift> features;
    double max_psi = 0, max_ks = 0;
    int64_t drifted = 0;  // features over the threshold
    Json to_json() const;
};

double population_stability_index(const std::vector<float>& reference, const std::vector<float>& live, int bins = 10);
double ks_statistic(const std::vector<float>& reference, const std::vector<float>& live);
// feature_names may be empty ("feature_0", ... or "channel_0", ... are used).
DriftReport compute_drift(const Tensor& reference, const Tensor& live, const std::vector<std::string>& feature_names = {},
                          const DriftDesc& desc = {});

}  // namespace cairn

// Evaluation metrics. See core/metrics.h.
//
// Index of this file
// [SECTION] Helpers
// [SECTION] Classification
// [SECTION] ROC
// [SECTION] Regression
// [SECTION] Reports (JSON)
// [SECTION] Drift
#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Helpers
//-----------------------------------------------------------------------------

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Json num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

void check_labels(const std::vector<int32_t>& y, int64_t k, const char* what) {
    for (size_t i = 0; i < y.size(); ++i)
        if (y[i] < 0 || y[i] >= k)
            fail("invalid_argument", std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(y[i]) +
                                         ": expected a class index in [0, " + std::to_string(k) + ")");
}

void check_same_length(size_t a, size_t b, const char* what) {
    if (a != b)
        fail("shape_mismatch", std::string(what) + ": " + std::to_string(a) + " true values but " + std::to_string(b) +
                                   " predictions");
}

// [n, k] scores as a contiguous 2-D tensor (a 1-D [n] tensor becomes [n, 1]).
Tensor as_matrix(const Tensor& t, const char* what) {
    if (!t.defined() || t.rank() < 1 || t.rank() > 2)
        fail("shape_mismatch", std::string(what) + ": expected [n, k] values, got " + shape_str(t.shape()));
    Tensor c = t.contiguous();
    return c.rank() == 1 ? c.reshape({c.dim(0), 1}) : c;
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Classification
//-----------------------------------------------------------------------------

double accuracy(const std::vector<int32_t>& y_true, const std::vector<int32_t>& y_pred) {
    check_same_length(y_true.size(), y_pred.size(), "accuracy");
    if (y_true.empty()) return kNaN;
    int64_t hit = 0;
    for (size_t i = 0; i < y_true.size(); ++i) hit += y_true[i] == y_pred[i];
    return static_cast<double>(hit) / static_cast<double>(y_true.size());
}

ConfusionMatrix confusion_matrix(const std::vector<int32_t>& y_true, const std::vector<int32_t>& y_pred,
                                 int64_t num_classes) {
    check_same_length(y_true.size(), y_pred.size(), "confusion_matrix");
    check_labels(y_true, num_classes, "y_true");
    check_labels(y_pred, num_classes, "y_pred");
    ConfusionMatrix cm(static_cast<size_t>(num_classes), std::vector<int64_t>(static_cast<size_t>(num_classes), 0));
    for (size_t i = 0; i < y_true.size(); ++i) cm[static_cast<size_t>(y_true[i])][static_cast<size_t>(y_pred[i])]++;
    return cm;
}

std::vector<ClassScores> per_class_scores(const ConfusionMatrix& cm) {
    const size_t k = cm.size();
    std::vector<ClassScores> out(k);
    for (size_t c = 0; c < k; ++c) {
        int64_t tp = cm[c][c], predicted = 0, actual = 0;
        for (size_t j = 0; j < k; ++j) {
            predicted += cm[j][c];
            actual += cm[c][j];
        }
        ClassScores& s = out[c];
        s.support = actual;
        // Zero division gives 0, sklearn's default (it also warns).
        s.precision = predicted ? static_cast<double>(tp) / static_cast<double>(predicted) : 0.0;
        s.recall = actual ? static_cast<double>(tp) / static_cast<double>(actual) : 0.0;
        s.f1 = (s.precision + s.recall) > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    }
    return out;
}

std::vector<int32_t> argmax_rows(const Tensor& scores) {
    Tensor s = as_matrix(scores, "argmax_rows");
    const int64_t n = s.dim(0), k = s.dim(1);
    std::vector<int32_t> out(static_cast<size_t>(n));
    const float* p = s.data();
    for (int64_t i = 0; i < n; ++i)
        out[static_cast<size_t>(i)] = static_cast<int32_t>(std::max_element(p + i * k, p + i * k + k) - (p + i * k));
    return out;
}

double log_loss(const std::vector<int32_t>& y_true, const Tensor& probabilities, double eps) {
    Tensor p = as_matrix(probabilities, "log_loss");
    const int64_t n = p.dim(0), k = p.dim(1);
    check_same_length(y_true.size(), static_cast<size_t>(n), "log_loss");
    check_labels(y_true, k, "y_true");
    if (n == 0) return kNaN;
    double total = 0;
    const float* d = p.data();
    for (int64_t i = 0; i < n; ++i) {
        double row = 0, mine = 0;
        for (int64_t j = 0; j < k; ++j) {
            double v = std::clamp(static_cast<double>(d[i * k + j]), eps, 1 - eps);
            row += v;
            if (j == y_true[static_cast<size_t>(i)]) mine = v;
        }
        total -= std::log(mine / row);
    }
    return total / static_cast<double>(n);
}

//-----------------------------------------------------------------------------
// [SECTION] ROC
//-----------------------------------------------------------------------------

RocCurve roc_curve(const std::vector<uint8_t>& is_positive, const std::vector<float>& scores) {
    check_same_length(is_positive.size(), scores.size(), "roc_curve");
    const size_t n = scores.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    int64_t P = 0;
    for (uint8_t v : is_positive) P += v != 0;
    const int64_t N = static_cast<int64_t>(n) - P;
    RocCurve r;
    std::vector<int64_t> tps = {0}, fps = {0};
    r.thresholds.push_back(n ? static_cast<double>(scores[order[0]]) + 1.0 : 1.0);
    int64_t tp = 0, fp = 0;
    for (size_t i = 0; i < n; ++i) {
        (is_positive[order[i]] ? tp : fp)++;
        // Tied scores form one point: emit only after the last sample of a run of equal scores.
        if (i + 1 == n || scores[order[i + 1]] != scores[order[i]]) {
            tps.push_back(tp);
            fps.push_back(fp);
            r.thresholds.push_back(scores[order[i]]);
        }
    }
    for (size_t i = 0; i < tps.size(); ++i) {
        r.tpr.push_back(P ? static_cast<double>(tps[i]) / static_cast<double>(P) : kNaN);
        r.fpr.push_back(N ? static_cast<double>(fps[i]) / static_cast<double>(N) : kNaN);
    }
    if (!P || !N) {
        r.auc = kNaN;
        return r;
    }
    double auc = 0;
    for (size_t i = 1; i < r.fpr.size(); ++i) auc += (r.fpr[i] - r.fpr[i - 1]) * (r.tpr[i] + r.tpr[i - 1]) * 0.5;
    r.auc = auc;
    return r;
}

RocCurve roc_curve_ovr(const std::vector<int32_t>& y_true, const Tensor& scores, int32_t c) {
    Tensor s = as_matrix(scores, "roc_curve_ovr");
    const int64_t n = s.dim(0), k = s.dim(1);
    check_same_length(y_true.size(), static_cast<size_t>(n), "roc_curve_ovr");
    if (c < 0 || c >= k) fail("invalid_argument", "roc_curve_ovr: class " + std::to_string(c) + " not in [0, " + std::to_string(k) + ")");
    std::vector<uint8_t> pos(static_cast<size_t>(n));
    std::vector<float> col(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        pos[static_cast<size_t>(i)] = y_true[static_cast<size_t>(i)] == c;
        col[static_cast<size_t>(i)] = s.data()[i * k + c];
    }
    return roc_curve(pos, col);
}

//-----------------------------------------------------------------------------
// [SECTION] Regression
//-----------------------------------------------------------------------------

RegressionReport evaluate_regression(const Tensor& y_true, const Tensor& y_pred) {
    Tensor t = as_matrix(y_true, "evaluate_regression (y_true)"), p = as_matrix(y_pred, "evaluate_regression (y_pred)");
    if (t.shape() != p.shape())
        fail("shape_mismatch", "evaluate_regression: y_true " + shape_str(t.shape()) + " vs y_pred " + shape_str(p.shape()));
    const int64_t n = t.dim(0), k = t.dim(1);
    RegressionReport r;
    r.n = n;
    if (n == 0) {
        r.mse = r.mae = r.r2 = kNaN;
        return r;
    }
    const float* a = t.data();
    const float* b = p.data();
    for (int64_t j = 0; j < k; ++j) {
        double mean = 0, se = 0, ae = 0, tot = 0;
        for (int64_t i = 0; i < n; ++i) mean += a[i * k + j];
        mean /= static_cast<double>(n);
        for (int64_t i = 0; i < n; ++i) {
            double e = static_cast<double>(a[i * k + j]) - b[i * k + j];
            se += e * e;
            ae += std::fabs(e);
            tot += (a[i * k + j] - mean) * (a[i * k + j] - mean);
        }
        r.mse += se / static_cast<double>(n);
        r.mae += ae / static_cast<double>(n);
        // Constant targets: sklearn's force_finite convention (1 for a perfect fit, else 0).
        r.r2 += tot > 0 ? 1.0 - se / tot : (se == 0 ? 1.0 : 0.0);
    }
    r.mse /= static_cast<double>(k);
    r.mae /= static_cast<double>(k);
    r.r2 /= static_cast<double>(k);
    return r;
}

Json RegressionReport::to_json() const {
    return Json{{"kind", "regression"}, {"n", n}, {"mse", num(mse)}, {"mae", num(mae)}, {"r2", num(r2)}};
}

//-----------------------------------------------------------------------------
// [SECTION] Reports (JSON)
//-----------------------------------------------------------------------------

ClassificationReport evaluate_classification(const std::vector<int32_t>& y_true, const std::vector<int32_t>& y_pred,
                                             const std::vector<std::string>& class_names) {
    const int64_t k = static_cast<int64_t>(class_names.size());
    if (k == 0) fail("invalid_argument", "evaluate_classification: no class names");
    ClassificationReport r;
    r.n = static_cast<int64_t>(y_true.size());
    r.class_names = class_names;
    r.confusion = confusion_matrix(y_true, y_pred, k);
    r.accuracy = accuracy(y_true, y_pred);
    r.per_class = per_class_scores(r.confusion);
    for (const auto& s : r.per_class) {
        r.macro_precision += s.precision / static_cast<double>(k);
        r.macro_recall += s.recall / static_cast<double>(k);
        r.macro_f1 += s.f1 / static_cast<double>(k);
        if (r.n) {
            double w = static_cast<double>(s.support) / static_cast<double>(r.n);
            r.weighted_precision += w * s.precision;
            r.weighted_recall += w * s.recall;
            r.weighted_f1 += w * s.f1;
        }
    }
    return r;
}

ClassificationReport evaluate_classification(const std::vector<int32_t>& y_true, const Tensor& probabilities,
                                             const std::vector<std::string>& class_names) {
    Tensor p = as_matrix(probabilities, "evaluate_classification");
    if (p.dim(1) != static_cast<int64_t>(class_names.size()))
        fail("shape_mismatch", "evaluate_classification: " + std::to_string(class_names.size()) +
                                   " classes but probabilities " + shape_str(p.shape()));
    ClassificationReport r = evaluate_classification(y_true, argmax_rows(p), class_names);
    r.has_probabilities = true;
    r.log_loss = log_loss(y_true, p);
    double sum = 0;
    int defined = 0;
    for (int32_t c = 0; c < static_cast<int32_t>(class_names.size()); ++c) {
        r.roc.push_back(roc_curve_ovr(y_true, p, c));
        if (std::isfinite(r.roc.back().auc)) {
            sum += r.roc.back().auc;
            ++defined;
        }
    }
    r.macro_auc = defined ? sum / defined : kNaN;
    return r;
}

Json ClassificationReport::to_json(size_t max_roc_points) const {
    Json classes = Json::array();
    for (size_t c = 0; c < per_class.size(); ++c) {
        const auto& s = per_class[c];
        Json e = {{"name", c < class_names.size() ? class_names[c] : std::to_string(c)},
                  {"precision", num(s.precision)}, {"recall", num(s.recall)}, {"f1", num(s.f1)},
                  {"support", s.support}};
        if (has_probabilities) e["auc"] = num(roc[c].auc);
        classes.push_back(e);
    }
    Json j = {{"kind", "classification"},
              {"n", n},
              {"accuracy", num(accuracy)},
              {"classes", classes},
              {"macro", {{"precision", num(macro_precision)}, {"recall", num(macro_recall)}, {"f1", num(macro_f1)}}},
              {"weighted", {{"precision", num(weighted_precision)}, {"recall", num(weighted_recall)}, {"f1", num(weighted_f1)}}},
              {"confusion", confusion}};
    if (has_probabilities) {
        j["log_loss"] = num(log_loss);
        j["macro_auc"] = num(macro_auc);
        Json curves = Json::array();
        for (const auto& rc : roc) {
            // Thinning keeps the first and last points and evenly spaced ones between (display only; AUC is exact).
            const size_t m = rc.fpr.size();
            std::vector<size_t> keep;
            if (max_roc_points < 2 || m <= max_roc_points) {
                for (size_t i = 0; i < m; ++i) keep.push_back(i);
            } else {
                for (size_t i = 0; i < max_roc_points; ++i) keep.push_back(i * (m - 1) / (max_roc_points - 1));
            }
            Json fpr = Json::array(), tpr = Json::array();
            for (size_t i : keep) {
                fpr.push_back(num(rc.fpr[i]));
                tpr.push_back(num(rc.tpr[i]));
            }
            curves.push_back({{"fpr", fpr}, {"tpr", tpr}});
        }
        j["roc"] = curves;
    }
    return j;
}

//-----------------------------------------------------------------------------
// [SECTION] Drift
//-----------------------------------------------------------------------------

double population_stability_index(const std::vector<float>& reference, const std::vector<float>& live, int bins) {
    if (reference.empty() || live.empty()) return kNaN;
    if (bins < 2) fail("invalid_argument", "population_stability_index: expected at least 2 bins, got " + std::to_string(bins));
    std::vector<float> ref = reference;
    std::sort(ref.begin(), ref.end());
    // Right-closed bins (-inf, e1], (e1, e2], ..., (e_last, inf) at the reference's quantiles; repeated edges merge,
    // and a constant reference still separates values above it.
    std::vector<float> edges;
    for (int i = 1; i < bins; ++i) edges.push_back(ref[std::min(ref.size() - 1, static_cast<size_t>(i) * ref.size() / static_cast<size_t>(bins))]);
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    auto histogram = [&](const std::vector<float>& v) {
        std::vector<double> h(edges.size() + 1, 0.0);
        for (float x : v) h[static_cast<size_t>(std::lower_bound(edges.begin(), edges.end(), x) - edges.begin())] += 1;
        for (double& c : h) c = std::max(c / static_cast<double>(v.size()), 1e-4);
        return h;
    };
    std::vector<double> a = histogram(reference), b = histogram(live);
    double psi = 0;
    for (size_t i = 0; i < a.size(); ++i) psi += (b[i] - a[i]) * std::log(b[i] / a[i]);
    return psi;
}

double ks_statistic(const std::vector<float>& reference, const std::vector<float>& live) {
    if (reference.empty() || live.empty()) return kNaN;
    std::vector<float> a = reference, b = live;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    size_t i = 0, j = 0;
    double d = 0;
    while (i < a.size() && j < b.size()) {
        float x = std::min(a[i], b[j]);
        while (i < a.size() && a[i] == x) ++i;  // step over ties in both samples at once
        while (j < b.size() && b[j] == x) ++j;
        d = std::max(d, std::fabs(static_cast<double>(i) / static_cast<double>(a.size()) -
                                  static_cast<double>(j) / static_cast<double>(b.size())));
    }
    return d;
}

namespace {

// Per-feature columns: tabular [n, d] -> d columns; images [n, h, w, c] -> c columns of per-sample channel means.
std::vector<std::vector<float>> drift_columns(const Tensor& t, const char* what) {
    if (!t.defined() || (t.rank() != 2 && t.rank() != 4))
        fail("shape_mismatch", std::string("compute_drift: ") + what + " must be [n, d] or [n, h, w, c], got " +
                                   shape_str(t.shape()));
    Tensor x = t.contiguous();
    const int64_t n = x.dim(0), k = x.dim(-1), per = n ? x.numel() / (n * k) : 0;
    std::vector<std::vector<float>> cols(static_cast<size_t>(k), std::vector<float>(static_cast<size_t>(n)));
    const float* d = x.data();
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < k; ++c) {
            double s = 0;
            for (int64_t p = 0; p < per; ++p) s += d[(i * per + p) * k + c];
            cols[static_cast<size_t>(c)][static_cast<size_t>(i)] = static_cast<float>(s / static_cast<double>(per));
        }
    return cols;
}

double mean_of(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += x;
    return v.empty() ? kNaN : s / static_cast<double>(v.size());
}

}  // namespace

DriftReport compute_drift(const Tensor& reference, const Tensor& live, const std::vector<std::string>& feature_names,
                          const DriftDesc& desc) {
    if (desc.bins < 0 || desc.bins == 1) fail("invalid_argument", "DriftDesc.bins: expected 0 (default) or >= 2");
    if (desc.psi_threshold < 0) fail("invalid_argument", "DriftDesc.psi_threshold: expected >= 0");
    if (reference.defined() && live.defined() &&
        Shape(reference.shape().begin() + 1, reference.shape().end()) != Shape(live.shape().begin() + 1, live.shape().end()))
        fail("shape_mismatch", "compute_drift: reference " + shape_str(reference.shape()) + " and live " +
                                   shape_str(live.shape()) + " samples differ in shape");
    const int bins = desc.bins ? desc.bins : 10;
    const double threshold = desc.psi_threshold > 0 ? desc.psi_threshold : 0.25;
    auto ref = drift_columns(reference, "reference"), cur = drift_columns(live, "live");
    const bool image = reference.rank() == 4;
    if (!feature_names.empty() && feature_names.size() != ref.size())
        fail("shape_mismatch", "compute_drift: " + std::to_string(feature_names.size()) + " feature names for " +
                                   std::to_string(ref.size()) + " features");
    DriftReport r;
    r.reference_n = reference.dim(0);
    r.live_n = live.dim(0);
    for (size_t c = 0; c < ref.size(); ++c) {
        FeatureDrift f;
        f.name = feature_names.empty() ? (image ? "channel_" : "feature_") + std::to_string(c) : feature_names[c];
        f.psi = population_stability_index(ref[c], cur[c], bins);
        f.ks = ks_statistic(ref[c], cur[c]);
        f.reference_mean = mean_of(ref[c]);
        f.live_mean = mean_of(cur[c]);
        f.drifted = f.psi > threshold;
        r.drifted += f.drifted;
        if (std::isfinite(f.psi)) r.max_psi = std::max(r.max_psi, f.psi);
        if (std::isfinite(f.ks)) r.max_ks = std::max(r.max_ks, f.ks);
        r.features.push_back(f);
    }
    return r;
}

Json DriftReport::to_json() const {
    Json feats = Json::array();
    for (const auto& f : features)
        feats.push_back({{"name", f.name}, {"psi", num(f.psi)}, {"ks", num(f.ks)}, {"reference_mean", num(f.reference_mean)},
                         {"live_mean", num(f.live_mean)}, {"drifted", f.drifted}});
    return Json{{"kind", "drift"}, {"reference_n", reference_n}, {"live_n", live_n}, {"max_psi", max_psi},
                {"max_ks", max_ks}, {"drifted", drifted}, {"features", feats}};
}

}  // namespace cairn

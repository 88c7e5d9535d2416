#!/usr/bin/python3
"""scikit-learn (and scipy) reference values for core/metrics, written as JSON for tests/core/test_metrics_sklearn.cpp.

usage: metrics_oracle.py OUT.json

Prediction sets are generated from fixed seeds; probabilities are rounded to float32 (what the C++ side stores) and
some to two decimals so that tied scores occur. Run with Debian's /usr/bin/python3 (python3-sklearn).
"""
import json
import sys

import numpy as np
import scipy.stats
from sklearn import metrics


def softmax_rows(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def classification_case(name, seed, n, k, decimals=None, skew=2.0, drop_class=None):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    if drop_class is not None:
        y[y == drop_class] = (drop_class + 1) % k  # a class with no true samples: recall and AUC undefined
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += skew * rng.random(n)  # informative but imperfect
    p = softmax_rows(logits)
    if decimals is not None:
        p = np.round(p, decimals)
        p[:, -1] = np.clip(1.0 - p[:, :-1].sum(axis=1), 0.0, 1.0)
    p = p.astype(np.float32).astype(np.float64)  # the exact values the C++ test sees
    pred = p.argmax(axis=1)
    labels = list(range(k))
    pr, rc, f1, sup = metrics.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    out = {
        "name": name, "k": k, "y_true": y.tolist(), "proba": p.ravel().tolist(), "y_pred": pred.tolist(),
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": pr.tolist(), "recall": rc.tolist(), "f1": f1.tolist(), "support": sup.tolist(),
        "confusion": metrics.confusion_matrix(y, pred, labels=labels).tolist(),
        "log_loss": metrics.log_loss(y, p, labels=labels, eps=1e-15),
    }
    for avg in ("macro", "weighted"):
        a = metrics.precision_recall_fscore_support(y, pred, labels=labels, average=avg, zero_division=0)
        out[avg] = {"precision": a[0], "recall": a[1], "f1": a[2]}
    aucs, rocs = [], []
    for c in range(k):
        pos = (y == c).astype(int)
        if pos.min() == pos.max():
            aucs.append(None)
            rocs.append(None)
            continue
        fpr, tpr, thr = metrics.roc_curve(pos, p[:, c], drop_intermediate=False)
        aucs.append(metrics.roc_auc_score(pos, p[:, c]))
        rocs.append({"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr[1:].tolist()})
    out["auc"] = aucs
    out["roc"] = rocs
    defined = [a for a in aucs if a is not None]
    out["macro_auc"] = float(np.mean(defined))
    if all(a is not None for a in aucs) and np.allclose(p.sum(axis=1), 1.0):  # sklearn's own requirement
        if k == 2:
            out["sklearn_macro_auc"] = metrics.roc_auc_score(y, p[:, 1])
        else:
            out["sklearn_macro_auc"] = metrics.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=labels)
    return out


def regression_case(name, seed, n, k):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, k)).astype(np.float32)
    p = (t + 0.5 * rng.normal(size=(n, k))).astype(np.float32)
    t64, p64 = t.astype(np.float64), p.astype(np.float64)
    return {"name": name, "k": k, "y_true": t64.ravel().tolist(), "y_pred": p64.ravel().tolist(),
            "mse": metrics.mean_squared_error(t64, p64), "mae": metrics.mean_absolute_error(t64, p64),
            "r2": metrics.r2_score(t64, p64)}


def ks_case(name, seed, n_ref, n_live, shift, decimals=None):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n_ref)
    b = rng.normal(loc=shift, size=n_live)
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    a = a.astype(np.float32).astype(np.float64)
    b = b.astype(np.float32).astype(np.float64)
    return {"name": name, "reference": a.tolist(), "live": b.tolist(),
            "ks": scipy.stats.ks_2samp(a, b).statistic}


def main():
    doc = {
        "classification": [
            classification_case("multiclass_4", 1, 300, 4),
            classification_case("multiclass_ties", 2, 250, 5, decimals=1),
            classification_case("binary_ties", 3, 200, 2, decimals=1, skew=1.0),
            classification_case("absent_class", 4, 120, 4, drop_class=2),
        ],
        "regression": [regression_case("single", 5, 100, 1), regression_case("multi", 6, 80, 3)],
        "ks": [ks_case("shift", 7, 300, 150, 0.4), ks_case("same", 8, 200, 200, 0.0, decimals=1)],
    }
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    main()

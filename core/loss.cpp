#include "core/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/ops.h"

namespace cairn {

static void need_2d(const Tensor& t, const char* what) {
    if (t.rank() != 2 || t.dtype() != DType::f32)
        fail("shape_invalid", std::string(what) + ": expected an f32 [n, k] tensor, got " + shape_str(t.shape()));
}

// A row's log-probability of its label, from its logits, in double (log-sum-exp with the row's max subtracted).
static double log_prob(const float* z, int64_t k, int32_t label) {
    double mx = z[0], s = 0;
    for (int64_t j = 1; j < k; ++j) mx = std::max(mx, double(z[j]));
    for (int64_t j = 0; j < k; ++j) s += std::exp(z[j] - mx);
    return z[label] - mx - std::log(s);
}

double softmax_cross_entropy(const Tensor& logits, const int32_t* labels, Tensor* dlogits) {
    need_2d(logits, "softmax_cross_entropy logits");
    int64_t n = logits.dim(0), k = logits.dim(1);
    for (int64_t i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= k)
            fail("invalid_label", "softmax_cross_entropy: label " + std::to_string(labels[i]) + " at row " +
                                      std::to_string(i) + " is outside [0, " + std::to_string(k) + ")");
    // One softmax gives both the gradient, (p - onehot) / n, and the loss, -log p[label]: while p is a normal
    // float its log is good to ~1e-7. A label whose probability underflows (a confidently wrong prediction) has
    // its log-probability recomputed from the logits. (A log-softmax pass as well cost 8 µs of a 64x10 batch in wasm.)
    Tensor p = ops::softmax(logits);
    const float* pr = p.data();
    const float* z = logits.data();
    const int64_t ld = logits.ld();
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float pl = pr[i * k + labels[i]];
        sum -= pl >= std::numeric_limits<float>::min() ? std::log(double(pl)) : log_prob(z + i * ld, k, labels[i]);
    }
    if (dlogits) {
        *dlogits = std::move(p);
        float* g = dlogits->data();
        for (int64_t i = 0; i < n; ++i) g[i * k + labels[i]] -= 1;
        ops::scale_(*dlogits, 1.0f / n);
    }
    return n ? sum / n : 0;
}

double binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, Tensor* dlogits) {
    need_2d(logits, "binary_cross_entropy logits");
    Tensor z = logits.contiguous(), t = targets.contiguous();
    check_same_shape(z, t, "binary_cross_entropy logits vs targets");
    const float* zp = z.data();
    const float* tp = t.data();
    double sum = 0;
    int64_t count = z.numel();
    for (int64_t i = 0; i < count; ++i) {
        double zi = zp[i];
        sum += std::max(zi, 0.0) - zi * tp[i] + std::log1p(std::exp(-std::abs(zi)));
    }
    if (dlogits) {
        *dlogits = ops::activation(Act::sigmoid, 0, z);
        ops::axpy(-1, t, *dlogits);
        ops::scale_(*dlogits, 1.0f / count);
    }
    return count ? sum / count : 0;
}

double mse_loss(const Tensor& pred, const Tensor& targets, Tensor* dpred) {
    Tensor diff = pred.clone();
    Tensor t = targets.contiguous();
    check_same_shape(diff, t, "mse predictions vs targets");
    ops::axpy(-1, t, diff);
    int64_t count = diff.numel();
    double sum = ops::sum_squares(diff);
    if (dpred) *dpred = ops::scale(diff, 2.0f / count);
    return count ? sum / count : 0;
}

double model_loss(LossKind kind, const Tensor& out, const int32_t* labels, const Tensor* targets, Tensor* dout) {
    switch (kind) {
        case LossKind::cross_entropy:
            if (!labels) fail("invalid_argument", "cross_entropy needs class labels");
            return softmax_cross_entropy(out, labels, dout);
        case LossKind::binary_cross_entropy: {
            if (targets) return binary_cross_entropy_with_logits(out, *targets, dout);
            if (!labels || out.dim(1) != 1)
                fail("invalid_argument", "binary_cross_entropy needs 0/1 labels with one output, or targets");
            Tensor t = Tensor::empty({out.dim(0), 1});
            for (int64_t i = 0; i < out.dim(0); ++i) {
                if (labels[i] != 0 && labels[i] != 1)
                    fail("invalid_label", "binary_cross_entropy: label " + std::to_string(labels[i]) + " at row " +
                                              std::to_string(i) + " is not 0 or 1");
                t.data()[i] = static_cast<float>(labels[i]);
            }
            return binary_cross_entropy_with_logits(out, t, dout);
        }
        case LossKind::mse:
            if (!targets) fail("invalid_argument", "mse needs regression targets");
            return mse_loss(out, *targets, dout);
    }
    return 0;
}

}  // namespace cairn

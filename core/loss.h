// Losses, each returning the batch mean and (optionally) its gradient w.r.t. the model output.
//
// The classification losses take logits and fuse the output activation, which keeps them finite for any
// logits: softmax cross-entropy through log-softmax (max-subtracted), binary cross-entropy in the
// max(z,0) - z·t + log(1 + exp(-|z|)) form. Gradients are the textbook (softmax(z) - onehot) / n and
// (sigmoid(z) - t) / numel, as PyTorch's mean reductions.
#pragma once
#include <cstdint>
#include <vector>

#include "core/model.h"
#include "core/tensor.h"

namespace cairn {

// logits [n, classes], labels[n] in [0, classes). Throws Error("invalid_label") naming the row.
double softmax_cross_entropy(const Tensor& logits, const int32_t* labels, Tensor* dlogits = nullptr);
// logits and targets [n, k], targets in [0, 1].
double binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, Tensor* dlogits = nullptr);
// mean over all elements of (pred - target)^2.
double mse_loss(const Tensor& pred, const Tensor& targets, Tensor* dpred = nullptr);

// The model's loss on a batch: labels for the classification losses (a single-output binary model takes 0/1
// labels), targets [n, outputs] for mse (or for multi-label binary cross-entropy).
double model_loss(LossKind kind, const Tensor& output, const int32_t* labels, const Tensor* targets, Tensor* doutput);

}  // namespace cairn

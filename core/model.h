// Model: a sequential stack of layers described by a small JSON architecture (the one the registry stores and
// the dashboard edits):
//
//   {"input": [28, 28, 1],
//    "layers": [{"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
//               {"type": "maxpool2d"}, {"type": "flatten"},
//               {"type": "dense", "units": 10, "activation": "softmax"}],
//    "loss": "cross_entropy"}                                   (optional; see below)
//
// Layer types and fields are listed in core/layers.cpp ([SECTION] Factory). "loss" is one of "cross_entropy"
// (default; outputs are logits, predict_proba applies softmax), "binary_cross_entropy" (logits, sigmoid) or
// "mse" (outputs are the predictions). A last-layer softmax / sigmoid activation names the same thing, so it
// is NOT applied in forward(): the losses are fused with it for numerical stability.
//
// Index of this file
// [SECTION] Model
// [SECTION] Presets
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/artifact.h"
#include "core/layers.h"

namespace cairn {

enum class LossKind : uint8_t { cross_entropy = 0, binary_cross_entropy = 1, mse = 2 };
const char* loss_name(LossKind k);

//-----------------------------------------------------------------------------
// [SECTION] Model
//-----------------------------------------------------------------------------

class Model {
public:
    Model();
    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    // Validates (Error "invalid_architecture" naming "layers[i].field", expected vs got), builds and initializes
    // the weights from `seed` (He normal for ReLU-like layers, Glorot uniform otherwise, zero biases).
    static Model from_json(const Json& architecture, uint64_t seed = 0);
    static void validate(const Json& architecture) { from_json(architecture); }
    // Rebuilds from an artifact's architecture and weights (Error "invalid_artifact" on missing, unknown or
    // mis-shaped tensors).
    static Model from_artifact(const ModelArtifact& artifact);
    // Architecture + copies of every parameter and buffer. Optimizer state and preprocessing are the caller's.
    ModelArtifact to_artifact() const;

    const Json& architecture() const { return arch_; }
    const Shape& input_shape() const { return input_; }  // per sample
    int64_t num_outputs() const { return outputs_; }
    LossKind loss() const { return loss_; }
    int64_t num_parameters() const;  // trainable scalars
    size_t num_layers() const { return layers_.size(); }
    Layer& layer(size_t i) { return *layers_[i]; }

    // x: [n, ...input] or [n, numel(input)] (reshaped). Returns [n, outputs]: logits for the classification losses.
    Tensor forward(const Tensor& x, bool training);
    // Gradient of the loss w.r.t. the output of the last forward(x, true) (inference keeps no activations); fills
    // every trainable Param::grad. Returns the input's gradient only if layer(0).need_input_grad was set (saliency
    // maps, gradient checks), else an empty tensor.
    Tensor backward(const Tensor& doutput);
    std::vector<Param*> params();     // trainable parameters and buffers, in layer order
    std::vector<Param*> trainable();  // parameters only (what the optimizer updates)

    // Inference in batches: class probabilities [n, classes] (a single sigmoid output gives [n, 2] = [1-p, p]);
    // for "mse" the raw predictions.
    Tensor predict_proba(const Tensor& x, int64_t batch = 256);
    std::vector<int32_t> predict_classes(const Tensor& x, int64_t batch = 256);

    // Dropout masks come from this stream (the trainer seeds it so training is reproducible).
    void seed_dropout(uint64_t seed);

private:
    bool is_batch(const Tensor& x) const;  // f32 and [n, input...] already
    Tensor as_batch(const Tensor& x) const;
    Json arch_;
    Shape input_;
    int64_t outputs_ = 0;
    LossKind loss_ = LossKind::cross_entropy;
    std::vector<std::unique_ptr<Layer>> layers_;
    std::unique_ptr<Rng> rng_;
    bool kept_activations_ = false;  // the last forward() was a training one, so backward() has what it needs
};

//-----------------------------------------------------------------------------
// [SECTION] Presets
//-----------------------------------------------------------------------------

// Named architectures for the CLI and the dashboard: "linear" (softmax regression), "mlp" (256-128 ReLU),
// "cnn" (Conv3x3(16,same)+ReLU+MaxPool2, Conv3x3(32,same)+ReLU+MaxPool2, Flatten, Dense). Image presets need a
// [h, w, c] input; "mlp" flattens images. Throws Error("invalid_argument") listing the names.
Json architecture_preset(const std::string& name, const Shape& input, int64_t classes);

}  // namespace cairn

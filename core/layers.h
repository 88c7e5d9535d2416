// Layers: forward and backward passes of one sequential stage, built from one entry of the architecture JSON.
//
// A layer sees whole batches: its input is [batch, ...sample shape]. forward() keeps what backward() needs
// (inputs, pre-activations, pool argmax, dropout mask) until the next forward. backward() overwrites the
// parameter gradients (no accumulation across calls) and returns the gradient of its input.
//
// Weight names are "<index>.<type>.<name>" (e.g. "0.dense.weight"), index being the position in "layers".
// Layouts: dense weights are [in, units] (x·W), convolution weights HWIO [kh, kw, in_c, filters], as the kernels.
//
// Index of this file
// [SECTION] Parameters
// [SECTION] Layer interface
// [SECTION] Construction from JSON
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/kernels.h"
#include "core/random.h"
#include "core/tensor.h"

namespace cairn {

using Json = nlohmann::json;

//-----------------------------------------------------------------------------
// [SECTION] Parameters
//-----------------------------------------------------------------------------

struct Param {
    std::string name;  // "0.dense.weight"
    Tensor value;
    Tensor grad;       // same shape as value; undefined for buffers
    bool trainable = true;  // false: a buffer (BatchNorm running statistics), saved but not optimized
};

//-----------------------------------------------------------------------------
// [SECTION] Layer interface
//-----------------------------------------------------------------------------

class Layer {
public:
    virtual ~Layer() = default;
    virtual const char* type() const = 0;
    const Shape& input_shape() const { return in_; }    // per sample, without the batch axis
    const Shape& output_shape() const { return out_; }
    virtual void init(Rng& rng) {}
    virtual Tensor forward(const Tensor& x, bool training) = 0;
    virtual Tensor backward(const Tensor& dy) = 0;
    virtual std::vector<Param*> params() { return {}; }
    // The first layer's input gradient is never used; layers skip computing it when this is false.
    bool need_input_grad = true;

protected:
    Shape in_, out_;
};

//-----------------------------------------------------------------------------
// [SECTION] Construction from JSON
//-----------------------------------------------------------------------------

// What the model needs to know about the layer list beyond the layers themselves.
struct LayerContext {
    Rng* rng = nullptr;  // dropout masks; owned by the model
};

// Builds layer `index` from its JSON spec for a per-sample input shape. Throws Error("invalid_architecture")
// naming "layers[i].field", the expected value and what was given. `is_last` allows the output activations
// (softmax, and sigmoid as an output) which are then NOT applied by the layer: the model fuses them into the
// loss and applies them in predict_proba. `output_act` receives that activation name ("" if none).
std::unique_ptr<Layer> make_layer(const Json& spec, int index, const Shape& input, bool is_last,
                                  const LayerContext& ctx, std::string& output_act);

// The activations accepted by "activation" fields and as standalone layers.
bool parse_act(const std::string& name, Act& out);

}  // namespace cairn

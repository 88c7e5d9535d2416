// ModelArtifact: everything needed to rebuild a trained model, in a form the registry can store without knowing
// about layers. core/model.h converts a Model to and from it; the registry (core/registry.h) stores it as a
// manifest plus safetensors blobs.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace cairn {

using Json = nlohmann::json;

struct NamedTensor {
    std::string name;  // e.g. "0.dense.weight", unique within its list
    Tensor tensor;
};

struct ModelArtifact {
    Json architecture;                          // the model's JSON description (same as the editor's)
    std::vector<NamedTensor> weights;           // parameters and buffers (e.g. BatchNorm running stats)
    Json optimizer;                             // optimizer config and step count; null if not saved
    std::vector<NamedTensor> optimizer_state;   // e.g. Adam moments, names matching weights + ".m"/".v"
    Json preprocessing;                         // standardization statistics, class names, input shape
};

}  // namespace cairn

// ModelArtifact: everything needed to rebuild a trained model, in a form the registry can store without knowing
// about layers. core/model.h converts a Model to and from it; the registry (core/registry.h) stores it as a
// manifest plus safetensors blobs.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace cairn {

using Json = nlohmann::json;

// The shortest decimal that reads back as the same float, for a float written to JSON: 0.9f is stored as 0.9, not
// as 0.8999999761581421, so hyper-parameters in the registry and its diffs read as the user typed them (and still
// round-trip exactly).
inline double shortest_decimal(float x) {
    char buf[32];
    for (int digits = 6; digits < 10; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(x));
        if (std::strtof(buf, nullptr) == x) break;
    }
    return std::strtod(buf, nullptr);
}

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

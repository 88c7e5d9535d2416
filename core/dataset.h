// Dataset: features + labels + schema. Loaders (CSV, IDX, image folders) live in core/data.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace cairn {

enum class Task : uint8_t { classification = 0, regression = 1 };

struct Schema {
    std::vector<std::string> feature_names;  // tabular: one per column; images: empty
    std::string label_name;                  // the label column's header
    std::vector<std::string> class_names;    // classification: index -> name (label i is class_names[i])
    int64_t image_h = 0, image_w = 0, image_c = 0;  // images: NHWC sample shape; 0 for tabular data
    Task task = Task::classification;
    bool is_image() const { return image_h > 0; }
};

struct Dataset {
    std::string name;          // e.g. "iris", or the file it came from
    Tensor features;           // [n, d] tabular or [n, h, w, c] images, f32
    std::vector<int32_t> labels;  // classification: class index per sample
    Tensor targets;            // regression: [n, k]; undefined for classification
    Schema schema;
    int64_t size() const { return features.defined() ? features.dim(0) : 0; }
    int64_t num_classes() const { return static_cast<int64_t>(schema.class_names.size()); }
};

}  // namespace cairn

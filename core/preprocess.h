// Preprocessing: seeded shuffles, stratified splits, standardization recorded as JSON, dataset fingerprints.
//
// Everything is deterministic from a seed (core/random.h), the same on every platform and build.
//
// Index of this file
// [SECTION] Subsets, shuffles, splits
// [SECTION] Standardization (Preprocessing JSON)
// [SECTION] Schema JSON and fingerprints
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/artifact.h"
#include "core/dataset.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Subsets, shuffles, splits
//-----------------------------------------------------------------------------

// The samples at `indices`, in that order (features, labels and targets copied; schema kept).
Dataset subset(const Dataset& ds, const std::vector<int64_t>& indices);
std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed);
Dataset shuffle(const Dataset& ds, uint64_t seed);

struct SplitDesc {
    double validation = 0;   // fraction of samples for validation, in [0, 1); 0 = no validation part
    double test = 0;         // fraction for test; validation + test < 1
    uint64_t seed = 0;
    bool no_stratify = false;  // classification splits keep each class's proportion unless this is set
};

struct Split {
    Dataset train, validation, test;
    std::vector<int64_t> train_indices, validation_indices, test_indices;  // into the original dataset
};

// Stratified (classification) or plain random (regression or no_stratify) split. Part sizes are round(n * fraction)
// overall; each class contributes its share (largest remainders), and each part is shuffled.
Split split_dataset(const Dataset& ds, const SplitDesc& desc);

//-----------------------------------------------------------------------------
// [SECTION] Standardization (Preprocessing JSON)
//-----------------------------------------------------------------------------
// Fit on the training part only, then applied to validation, test and live inputs. Tabular data: one mean/scale per
// feature; images: one per channel. The JSON form goes into ModelArtifact.preprocessing:
//   {"version":1, "standardize":true|false, "mean":[..], "scale":[..], "input_shape":[d] or [h,w,c],
//    "class_names":[..], "feature_names":[..], "label_name":"..", "task":"classification"|"regression"}

struct Preprocessing {
    bool standardize = false;
    std::vector<float> mean, scale;  // x' = (x - mean) / scale
    Schema schema;                   // class and feature names, image shape, task
    Shape input_shape;               // one sample: [d] or [h, w, c]

    Json to_json() const;
    static Preprocessing from_json(const Json& j);  // Error "parse_error" naming the bad field

    // Returns standardized copies; checks the input's sample shape against input_shape ("shape_mismatch").
    Tensor apply(const Tensor& features) const;
    // The same on a dataset, first matched to the model's schema (match_schema).
    Dataset apply(const Dataset& ds) const;
};

// A dataset matched by name to a schema (a model's, or a reference dataset's): its columns are taken in the schema's
// order (extra ones dropped; a missing one is "shape_mismatch") and its labels re-numbered to the schema's classes
// (a class it does not know is "invalid_argument"). Names that match none of the schema's ("feature_0", or labels
// "0", "1", ... from typed arrays) are taken by position.
Dataset match_schema(const Dataset& ds, const Schema& schema);

struct PreprocessDesc {
    bool no_standardize = false;  // record the schema only
};

// Population statistics (like sklearn's StandardScaler): scale = std, or 1 where a feature is constant.
Preprocessing fit_preprocessing(const Dataset& train, const PreprocessDesc& desc = {});

//-----------------------------------------------------------------------------
// [SECTION] Schema JSON and fingerprints
//-----------------------------------------------------------------------------

Json schema_to_json(const Schema& s);
Schema schema_from_json(const Json& j);  // Error "parse_error" naming the bad field
const char* task_name(Task t);

// SHA-256 (hex) of the canonical schema JSON (names, task, shapes) then the little-endian f32 features, i32 labels
// and f32 targets. Changes when any value, name, or the sample order changes; ignores Dataset::name.
std::string dataset_fingerprint(const Dataset& ds);

}  // namespace cairn

// Preprocessing. See core/preprocess.h.
//
// Index of this file
// [SECTION] Subsets, shuffles, splits
// [SECTION] Standardization (Preprocessing JSON)
// [SECTION] Schema JSON and fingerprints
#include "core/preprocess.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/hash.h"
#include "core/random.h"

namespace cairn {

static_assert(std::endian::native == std::endian::little, "fingerprints hash the in-memory bytes as little-endian");

//-----------------------------------------------------------------------------
// [SECTION] Subsets, shuffles, splits
//-----------------------------------------------------------------------------

Dataset subset(const Dataset& ds, const std::vector<int64_t>& indices) {
    const int64_t n = ds.size();
    Dataset out;
    out.name = ds.name;
    out.schema = ds.schema;
    const int64_t m = static_cast<int64_t>(indices.size());
    auto gather = [&](const Tensor& src) {
        if (!src.defined()) return Tensor();
        Tensor s = src.contiguous();
        Shape shape = s.shape();
        shape[0] = m;
        Tensor dst = Tensor::empty(shape, s.dtype());
        const int64_t row = (n ? s.numel() / n : 0) * static_cast<int64_t>(dtype_size(s.dtype()));
        const uint8_t* from = s.data<uint8_t>();
        uint8_t* to = dst.data<uint8_t>();
        for (int64_t i = 0; i < m; ++i)
            std::copy_n(from + indices[static_cast<size_t>(i)] * row, row, to + i * row);
        return dst;
    };
    for (int64_t i : indices)
        if (i < 0 || i >= n)
            fail("invalid_argument", "subset: index " + std::to_string(i) + " out of range [0, " + std::to_string(n) + ")");
    out.features = gather(ds.features);
    out.targets = gather(ds.targets);
    if (!ds.labels.empty()) {
        out.labels.reserve(indices.size());
        for (int64_t i : indices) out.labels.push_back(ds.labels[static_cast<size_t>(i)]);
    }
    return out;
}

std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed) {
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), int64_t(0));
    Rng rng(seed);
    rng.shuffle(idx);
    return idx;
}

Dataset shuffle(const Dataset& ds, uint64_t seed) { return subset(ds, shuffled_indices(ds.size(), seed)); }

namespace {

// Splits `total` items across groups proportionally to `weights` (which sum to `weight_sum`) by largest remainders,
// so the parts add up exactly.
std::vector<int64_t> apportion(int64_t total, const std::vector<int64_t>& weights, int64_t weight_sum) {
    std::vector<int64_t> out(weights.size());
    std::vector<std::pair<double, size_t>> rema;
    int64_t given = 0;
    for (size_t c = 0; c < weights.size(); ++c) {
        double exact = weight_sum ? static_cast<double>(total) * static_cast<double>(weights[c]) / static_cast<double>(weight_sum) : 0;
        out[c] = static_cast<int64_t>(std::floor(exact));
        given += out[c];
        rema.push_back({exact - static_cast<double>(out[c]), c});
    }
    std::stable_sort(rema.begin(), rema.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t k = 0; given < total && k < rema.size(); ++k, ++given) out[rema[k].second]++;
    return out;
}

}  // namespace

Split split_dataset(const Dataset& ds, const SplitDesc& desc) {
    if (!(desc.validation >= 0 && desc.validation < 1))
        fail("invalid_argument", "SplitDesc.validation: expected a fraction in [0, 1), got " + std::to_string(desc.validation));
    if (!(desc.test >= 0 && desc.test < 1))
        fail("invalid_argument", "SplitDesc.test: expected a fraction in [0, 1), got " + std::to_string(desc.test));
    if (desc.validation + desc.test >= 1)
        fail("invalid_argument", "SplitDesc: validation + test must be below 1, got " +
                                     std::to_string(desc.validation + desc.test));
    const int64_t n = ds.size();
    if (n == 0) fail("invalid_argument", "split_dataset: the dataset " + ds.name + " is empty");
    const int64_t n_test = static_cast<int64_t>(std::floor(static_cast<double>(n) * desc.test + 0.5));
    const int64_t n_val = static_cast<int64_t>(std::floor(static_cast<double>(n) * desc.validation + 0.5));

    Rng rng(desc.seed);
    // Groups: one per class when stratifying, else one group of everything.
    const bool stratify = !desc.no_stratify && ds.schema.task == Task::classification && !ds.labels.empty();
    std::vector<std::vector<int64_t>> groups(stratify ? std::max<int64_t>(ds.num_classes(), 1) : 1);
    for (int64_t i = 0; i < n; ++i) {
        size_t g = 0;
        if (stratify) {
            int32_t l = ds.labels[static_cast<size_t>(i)];
            if (l < 0 || l >= static_cast<int32_t>(groups.size()))
                fail("invalid_argument", "split_dataset: label " + std::to_string(l) + " of sample " + std::to_string(i) +
                                             " is outside the " + std::to_string(groups.size()) + " classes");
            g = static_cast<size_t>(l);
        }
        groups[g].push_back(i);
    }
    std::vector<int64_t> sizes;
    for (auto& g : groups) sizes.push_back(static_cast<int64_t>(g.size()));
    std::vector<int64_t> test_c = apportion(n_test, sizes, n);
    std::vector<int64_t> val_c = apportion(n_val, sizes, n);

    Split s;
    for (size_t c = 0; c < groups.size(); ++c) {
        auto& g = groups[c];
        rng.shuffle(g);
        const int64_t t = std::min<int64_t>(test_c[c], static_cast<int64_t>(g.size()));
        const int64_t v = std::min<int64_t>(val_c[c], static_cast<int64_t>(g.size()) - t);
        s.test_indices.insert(s.test_indices.end(), g.begin(), g.begin() + t);
        s.validation_indices.insert(s.validation_indices.end(), g.begin() + t, g.begin() + t + v);
        s.train_indices.insert(s.train_indices.end(), g.begin() + t + v, g.end());
    }
    rng.shuffle(s.train_indices);
    rng.shuffle(s.validation_indices);
    rng.shuffle(s.test_indices);
    s.train = subset(ds, s.train_indices);
    s.validation = subset(ds, s.validation_indices);
    s.test = subset(ds, s.test_indices);
    return s;
}

//-----------------------------------------------------------------------------
// [SECTION] Standardization (Preprocessing JSON)
//-----------------------------------------------------------------------------

namespace {

Shape sample_shape(const Tensor& features) { return Shape(features.shape().begin() + 1, features.shape().end()); }

[[noreturn]] void json_fail(const std::string& field, const std::string& what) {
    fail("parse_error", "preprocessing JSON: field \"" + field + "\": " + what);
}

template <class T> std::vector<T> json_array(const Json& j, const char* field, bool is_string) {
    if (!j.contains(field)) return {};
    const Json& a = j.at(field);
    if (!a.is_array()) json_fail(field, std::string("expected an array, got ") + a.type_name());
    std::vector<T> out;
    for (size_t i = 0; i < a.size(); ++i) {
        bool ok = is_string ? a[i].is_string() : a[i].is_number();
        if (!ok)
            json_fail(field, "element " + std::to_string(i) + ": expected a " + (is_string ? "string" : "number") +
                                 ", got " + a[i].type_name());
        out.push_back(a[i].get<T>());
    }
    return out;
}

}  // namespace

Preprocessing fit_preprocessing(const Dataset& train, const PreprocessDesc& desc) {
    if (!train.features.defined() || train.features.rank() < 2)
        fail("invalid_argument", "fit_preprocessing: the dataset " + train.name + " has no [n, ...] features");
    Preprocessing p;
    p.schema = train.schema;
    p.input_shape = sample_shape(train.features);
    p.standardize = !desc.no_standardize;
    if (!p.standardize) return p;
    const Tensor x = train.features.contiguous();
    const int64_t n = x.dim(0);
    // Images: statistics per channel (the last axis); tabular: per feature.
    const int64_t k = x.dim(-1);
    const int64_t rows = x.numel() / k;
    if (n == 0) fail("invalid_argument", "fit_preprocessing: the dataset " + train.name + " is empty");
    std::vector<double> sum(static_cast<size_t>(k), 0.0), sq(static_cast<size_t>(k), 0.0);
    const float* d = x.data();
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < k; ++j) sum[static_cast<size_t>(j)] += d[r * k + j];
    p.mean.resize(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) p.mean[static_cast<size_t>(j)] = static_cast<float>(sum[static_cast<size_t>(j)] / static_cast<double>(rows));
    // Two-pass variance: exact enough for features with large offsets.
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < k; ++j) {
            double e = d[r * k + j] - sum[static_cast<size_t>(j)] / static_cast<double>(rows);
            sq[static_cast<size_t>(j)] += e * e;
        }
    p.scale.resize(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) {
        double sd = std::sqrt(sq[static_cast<size_t>(j)] / static_cast<double>(rows));
        p.scale[static_cast<size_t>(j)] = sd > 1e-12 ? static_cast<float>(sd) : 1.0f;
    }
    return p;
}

Tensor Preprocessing::apply(const Tensor& features) const {
    if (!features.defined() || features.rank() < 1) fail("shape_mismatch", "preprocessing: no input features");
    if (!input_shape.empty() && sample_shape(features) != input_shape)
        fail("shape_mismatch", "preprocessing: expected samples of shape " + shape_str(input_shape) + ", got " +
                                   shape_str(sample_shape(features)) + " (input " + shape_str(features.shape()) + ")");
    Tensor out = features.clone();
    if (!standardize) return out;
    const int64_t k = static_cast<int64_t>(mean.size());
    if (k == 0 || out.dim(-1) != k)
        fail("shape_mismatch", "preprocessing: statistics for " + std::to_string(k) + " features/channels, input has " +
                                   std::to_string(out.dim(-1)));
    float* d = out.data();
    const int64_t rows = out.numel() / k;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < k; ++j) d[r * k + j] = (d[r * k + j] - mean[static_cast<size_t>(j)]) / scale[static_cast<size_t>(j)];
    return out;
}

namespace {

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

// The model's columns, by name, in the model's order: a file may order its columns differently or carry more.
Tensor features_by_name(const Dataset& ds, const std::vector<std::string>& want) {
    const std::vector<std::string>& have = ds.schema.feature_names;
    if (have == want) return ds.features;
    if (ds.features.rank() != 2 || static_cast<int64_t>(have.size()) != ds.features.dim(1)) return ds.features;
    // Names that say nothing about the model's columns ("feature_0", ... of typed arrays) leave the order as it is.
    const bool any_shared = std::any_of(want.begin(), want.end(),
                                        [&](const std::string& w) { return std::find(have.begin(), have.end(), w) != have.end(); });
    if (!any_shared && have.size() != want.size())
        fail("shape_mismatch", ds.name + ": expected the columns " + joined(want) + ", got " + joined(have));
    if (!any_shared) return ds.features;
    std::vector<int64_t> col;
    for (const std::string& name : want) {
        auto it = std::find(have.begin(), have.end(), name);
        if (it == have.end())
            fail("shape_mismatch", ds.name + ": the model's input column '" + name + "' is missing (the model reads " +
                                       joined(want) + "; the data has " + joined(have) + ")");
        col.push_back(it - have.begin());
    }
    const int64_t n = ds.features.dim(0), d = ds.features.dim(1), k = static_cast<int64_t>(col.size());
    Tensor src = ds.features.contiguous(), out = Tensor::empty({n, k});
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < k; ++j) out.data()[r * k + j] = src.data()[r * d + col[static_cast<size_t>(j)]];
    return out;
}

// Label indices re-numbered to the model's classes by name: a file's classes are numbered among the classes it
// contains (a test file of virginica alone calls it class 0).
std::vector<int32_t> labels_by_name(const Dataset& ds, const std::vector<std::string>& classes) {
    const std::vector<std::string>& have = ds.schema.class_names;
    // Labels given as bare class indices (names "0", "1", ...: typed arrays without class names) are indices into
    // the model's classes, when the model's classes have other names.
    bool bare_indices = have.size() <= classes.size();
    for (size_t c = 0; c < have.size() && bare_indices; ++c)
        bare_indices = have[c] == std::to_string(c) && std::find(classes.begin(), classes.end(), have[c]) == classes.end();
    std::vector<int32_t> index_of(have.size());
    for (size_t c = 0; c < have.size(); ++c) {
        auto it = std::find(classes.begin(), classes.end(), have[c]);
        if (!bare_indices && it == classes.end())
            fail("invalid_argument", ds.name + ": class '" + have[c] + "' is not one the model knows (" + joined(classes) + ")");
        index_of[c] = static_cast<int32_t>(bare_indices ? c : static_cast<size_t>(it - classes.begin()));
    }
    std::vector<int32_t> out(ds.labels.size());
    for (size_t i = 0; i < out.size(); ++i) {
        const int32_t l = ds.labels[i];
        if (l < 0 || static_cast<size_t>(l) >= have.size())
            fail("invalid_argument", ds.name + ": sample " + std::to_string(i) + " has label " + std::to_string(l) +
                                         ", outside its " + std::to_string(have.size()) + " classes");
        out[i] = index_of[static_cast<size_t>(l)];
    }
    return out;
}

}  // namespace

Dataset match_schema(const Dataset& ds, const Schema& schema) {
    Dataset out = ds;
    if (!schema.feature_names.empty() && !ds.schema.feature_names.empty()) {
        out.features = features_by_name(ds, schema.feature_names);
        out.schema.feature_names = schema.feature_names;
    }
    if (schema.task == Task::classification && !schema.class_names.empty() && !ds.labels.empty() &&
        !ds.schema.class_names.empty() && ds.schema.class_names != schema.class_names) {
        out.labels = labels_by_name(ds, schema.class_names);
        out.schema.class_names = schema.class_names;
    }
    return out;
}

Dataset Preprocessing::apply(const Dataset& ds) const {
    Dataset out = match_schema(ds, schema);
    out.features = apply(out.features);
    return out;
}

Json Preprocessing::to_json() const {
    Json j = schema_to_json(schema);
    j["version"] = 1;
    j["standardize"] = standardize;
    j["mean"] = mean;
    j["scale"] = scale;
    j["input_shape"] = input_shape;
    return j;
}

Preprocessing Preprocessing::from_json(const Json& j) {
    if (!j.is_object()) fail("parse_error", std::string("preprocessing JSON: expected an object, got ") + j.type_name());
    Preprocessing p;
    p.schema = schema_from_json(j);
    if (j.contains("version") && (!j["version"].is_number_integer() || j["version"].get<int>() != 1))
        json_fail("version", "expected 1, got " + j["version"].dump());
    if (j.contains("standardize")) {
        if (!j["standardize"].is_boolean()) json_fail("standardize", std::string("expected a boolean, got ") + j["standardize"].type_name());
        p.standardize = j["standardize"].get<bool>();
    }
    p.mean = json_array<float>(j, "mean", false);
    p.scale = json_array<float>(j, "scale", false);
    p.input_shape = json_array<int64_t>(j, "input_shape", false);
    if (p.standardize) {
        if (p.mean.empty() || p.mean.size() != p.scale.size())
            json_fail("scale", "expected as many entries as \"mean\" (" + std::to_string(p.mean.size()) + "), got " +
                                   std::to_string(p.scale.size()));
        for (size_t i = 0; i < p.scale.size(); ++i)
            if (!(p.scale[i] > 0)) json_fail("scale", "element " + std::to_string(i) + ": expected > 0");
        if (!p.input_shape.empty() && p.input_shape.back() != static_cast<int64_t>(p.mean.size()))
            json_fail("mean", "expected " + std::to_string(p.input_shape.back()) + " entries (last axis of input_shape), got " +
                                  std::to_string(p.mean.size()));
    }
    return p;
}

//-----------------------------------------------------------------------------
// [SECTION] Schema JSON and fingerprints
//-----------------------------------------------------------------------------

const char* task_name(Task t) { return t == Task::regression ? "regression" : "classification"; }

Json schema_to_json(const Schema& s) {
    Json j;
    j["feature_names"] = s.feature_names;
    j["label_name"] = s.label_name;
    j["class_names"] = s.class_names;
    j["task"] = task_name(s.task);
    if (s.is_image()) j["image_shape"] = {s.image_h, s.image_w, s.image_c};
    return j;
}

Schema schema_from_json(const Json& j) {
    if (!j.is_object()) fail("parse_error", std::string("schema JSON: expected an object, got ") + j.type_name());
    Schema s;
    s.feature_names = json_array<std::string>(j, "feature_names", true);
    s.class_names = json_array<std::string>(j, "class_names", true);
    if (j.contains("label_name")) {
        if (!j["label_name"].is_string()) json_fail("label_name", std::string("expected a string, got ") + j["label_name"].type_name());
        s.label_name = j["label_name"].get<std::string>();
    }
    if (j.contains("task")) {
        std::string t = j["task"].is_string() ? j["task"].get<std::string>() : j["task"].dump();
        if (t == "classification") s.task = Task::classification;
        else if (t == "regression") s.task = Task::regression;
        else json_fail("task", "expected \"classification\" or \"regression\", got " + t);
    }
    std::vector<int64_t> img = json_array<int64_t>(j, "image_shape", false);
    if (!img.empty()) {
        if (img.size() != 3 || img[0] <= 0 || img[1] <= 0 || img[2] <= 0)
            json_fail("image_shape", "expected [h, w, c] with positive sizes, got " + j["image_shape"].dump());
        s.image_h = img[0];
        s.image_w = img[1];
        s.image_c = img[2];
    }
    return s;
}

std::string dataset_fingerprint(const Dataset& ds) {
    Json canon = schema_to_json(ds.schema);
    canon["features_shape"] = ds.features.defined() ? ds.features.shape() : Shape{};
    canon["targets_shape"] = ds.targets.defined() ? ds.targets.shape() : Shape{};
    canon["num_labels"] = ds.labels.size();
    canon["format"] = "cairn-dataset-v1 f32le i32le";
    Sha256 h;
    h.update(canon.dump());  // nlohmann's objects are key-sorted: the dump is canonical
    h.update("\n", 1);
    if (ds.features.defined()) {
        Tensor x = ds.features.contiguous();
        h.update(x.data(), static_cast<size_t>(x.numel()) * sizeof(float));
    }
    h.update(ds.labels.data(), ds.labels.size() * sizeof(int32_t));
    if (ds.targets.defined()) {
        Tensor t = ds.targets.contiguous();
        h.update(t.data(), static_cast<size_t>(t.numel()) * sizeof(float));
    }
    return h.hex();
}

}  // namespace cairn

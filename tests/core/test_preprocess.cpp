#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/data.h"
#include "core/error.h"
#include "core/preprocess.h"

using namespace cairn;

namespace {

// n samples, 2 features (i, 10 * class), labels cycling with the given class weights.
Dataset toy(const std::vector<int>& per_class) {
    Dataset ds;
    ds.name = "toy";
    int64_t n = 0;
    for (int c : per_class) n += c;
    ds.features = Tensor::empty({n, 2});
    int64_t i = 0;
    for (size_t c = 0; c < per_class.size(); ++c) {
        ds.schema.class_names.push_back("c" + std::to_string(c));
        for (int k = 0; k < per_class[c]; ++k, ++i) {
            ds.features.at({i, 0}) = static_cast<float>(i);
            ds.features.at({i, 1}) = static_cast<float>(10 * c);
            ds.labels.push_back(static_cast<int32_t>(c));
        }
    }
    ds.schema.feature_names = {"i", "tenc"};
    ds.schema.label_name = "y";
    return ds;
}

std::vector<int> class_counts(const Dataset& ds) {
    std::vector<int> c(static_cast<size_t>(ds.num_classes()), 0);
    for (int32_t l : ds.labels) c[static_cast<size_t>(l)]++;
    return c;
}

}  // namespace

TEST(Split, StratifiedKeepsProportionsAndPartitions) {
    Dataset ds = toy({100, 60, 40});
    Split s = split_dataset(ds, {.validation = 0.1, .test = 0.2, .seed = 7});
    EXPECT_EQ(s.test.size(), 40);
    EXPECT_EQ(s.validation.size(), 20);
    EXPECT_EQ(s.train.size(), 140);
    EXPECT_EQ(class_counts(s.test), (std::vector<int>{20, 12, 8}));
    EXPECT_EQ(class_counts(s.validation), (std::vector<int>{10, 6, 4}));
    EXPECT_EQ(class_counts(s.train), (std::vector<int>{70, 42, 28}));
    // A partition: every index once; features/labels follow their sample.
    std::set<int64_t> all;
    for (auto* v : {&s.train_indices, &s.validation_indices, &s.test_indices}) all.insert(v->begin(), v->end());
    EXPECT_EQ(all.size(), 200u);
    for (size_t k = 0; k < s.test_indices.size(); ++k) {
        int64_t i = s.test_indices[k];
        EXPECT_EQ(s.test.features.at({static_cast<int64_t>(k), 0}), static_cast<float>(i));
        EXPECT_EQ(s.test.labels[k], ds.labels[static_cast<size_t>(i)]);
    }
    // Deterministic from the seed, different for another seed.
    Split again = split_dataset(ds, {.validation = 0.1, .test = 0.2, .seed = 7});
    EXPECT_EQ(again.test_indices, s.test_indices);
    Split other = split_dataset(ds, {.validation = 0.1, .test = 0.2, .seed = 8});
    EXPECT_NE(other.test_indices, s.test_indices);
}

TEST(Split, UnevenClassesTotalsStillExact) {
    Dataset ds = toy({7, 5, 3});
    Split s = split_dataset(ds, {.test = 0.3, .seed = 1});
    EXPECT_EQ(s.test.size(), 5);  // round(15 * 0.3 = 4.5) = 5
    auto c = class_counts(s.test);
    for (size_t k = 0; k < c.size(); ++k) EXPECT_LE(std::abs(c[k] - 0.3 * std::vector<int>{7, 5, 3}[k]), 1.0);
    EXPECT_EQ(s.validation.size(), 0);
    EXPECT_EQ(s.train.size(), 10);
}

TEST(Split, RejectsBadFractions) {
    Dataset ds = toy({5, 5});
    EXPECT_THROW(split_dataset(ds, {.validation = 0.5, .test = 0.5}), Error);
    EXPECT_THROW(split_dataset(ds, {.test = -0.1}), Error);
}

TEST(Split, RealIrisStratified) {
    Dataset iris = load_bundled_dataset("iris");
    Split s = split_dataset(iris, {.validation = 0.2, .test = 0.2, .seed = 42});
    EXPECT_EQ(class_counts(s.test), (std::vector<int>{10, 10, 10}));
    EXPECT_EQ(class_counts(s.train), (std::vector<int>{30, 30, 30}));
}

TEST(Shuffle, PermutationFromSeed) {
    auto a = shuffled_indices(50, 3), b = shuffled_indices(50, 3), c = shuffled_indices(50, 4);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    std::set<int64_t> s(a.begin(), a.end());
    EXPECT_EQ(s.size(), 50u);
    EXPECT_EQ(*s.rbegin(), 49);
}

TEST(Standardize, FitOnTrainAppliedFromJson) {
    Dataset ds = toy({3, 2});  // feature 0: 0..4 (mean 2, population std sqrt(2)); feature 1: 0,0,0,10,10
    Preprocessing p = fit_preprocessing(ds);
    EXPECT_NEAR(p.mean[0], 2.0f, 1e-6);
    EXPECT_NEAR(p.scale[0], std::sqrt(2.0f), 1e-6);
    EXPECT_NEAR(p.mean[1], 4.0f, 1e-6);
    EXPECT_NEAR(p.scale[1], std::sqrt(24.0f), 1e-5);
    Json j = p.to_json();
    EXPECT_EQ(j["class_names"], (Json{"c0", "c1"}));
    EXPECT_EQ(j["input_shape"], (Json{2}));
    Preprocessing q = Preprocessing::from_json(Json::parse(j.dump()));
    Tensor live = Tensor::from({1, 2}, {4.0f, 10.0f});
    Tensor out = q.apply(live);
    EXPECT_NEAR(out.at({0, 0}), 2.0f / std::sqrt(2.0f), 1e-6);
    EXPECT_NEAR(out.at({0, 1}), 6.0f / std::sqrt(24.0f), 1e-6);
    EXPECT_EQ(q.schema.class_names, ds.schema.class_names);
    EXPECT_THROW(q.apply(Tensor::zeros({1, 3})), Error);
    // Constant features keep scale 1 (no division by zero).
    Dataset flat = toy({4});
    EXPECT_EQ(fit_preprocessing(flat).scale[1], 1.0f);
    // Bad JSON names the field.
    Json bad = j;
    bad["scale"] = Json{1.0};
    try {
        Preprocessing::from_json(bad);
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "parse_error");
        EXPECT_NE(std::string(e.what()).find("scale"), std::string::npos);
    }
}

// Data from another file is matched to the model by name before it is standardized: columns in the model's order
// (extras dropped), labels numbered as the model's classes. The oracle is the model's own data, row by row.
TEST(Standardize, DatasetsAreMatchedToTheModelByName) {
    Dataset train = load_csv("a,b,c,y\n1,10,100,cat\n2,20,200,dog\n3,30,300,eel\n4,40,400,dog\n", "train.csv");
    Preprocessing p = fit_preprocessing(train);
    Dataset want = p.apply(train);
    // The same rows with the columns reordered, one extra column, and only two of the classes.
    Dataset other = load_csv("y,c,extra,a,b\ndog,200,9,2,20\neel,300,9,3,30\ndog,400,9,4,40\n", "other.csv",
                             {.label_column = "y"});
    ASSERT_EQ(other.labels, (std::vector<int32_t>{0, 1, 0}));  // numbered among its own classes: dog 0, eel 1
    Dataset got = p.apply(other);
    EXPECT_EQ(got.labels, (std::vector<int32_t>{1, 2, 1}));
    EXPECT_EQ(got.schema.class_names, train.schema.class_names);
    ASSERT_EQ(got.features.shape(), (Shape{3, 3}));
    for (int64_t r = 0; r < 3; ++r)
        for (int64_t c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(got.features.at({r, c}), want.features.at({r + 1, c})) << r << "," << c;
    // New data without labels: the same features, no labels.
    Dataset live = p.apply(load_csv("c,b,a\n300,30,3\n", "live.csv", {.label_column = "y", .label_optional = true}));
    EXPECT_TRUE(live.labels.empty());
    for (int64_t c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(live.features.at({0, c}), want.features.at({2, c}));
    // A missing column, or a class the model does not know, is named.
    try {
        p.apply(load_csv("a,c,y\n1,2,cat\n", "short.csv"));
        ADD_FAILURE() << "a missing column was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "shape_mismatch");
        EXPECT_NE(std::string(e.what()).find("short.csv: the model's input column 'b' is missing"), std::string::npos) << e.what();
    }
    try {
        p.apply(load_csv("a,b,c,y\n1,2,3,fox\n", "fox.csv"));
        ADD_FAILURE() << "an unknown class was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "invalid_argument");
        EXPECT_NE(std::string(e.what()).find("class 'fox' is not one the model knows (cat, dog, eel)"), std::string::npos) << e.what();
    }
    // Names that mean nothing to the model (typed arrays: feature_0..., labels 0, 1, ...) are taken by position.
    Dataset arrays = train;
    arrays.schema.feature_names = {"feature_0", "feature_1", "feature_2"};
    arrays.schema.class_names = {"0", "1", "2"};
    Dataset by_position = p.apply(arrays);
    EXPECT_EQ(by_position.labels, train.labels);
    for (int64_t i = 0; i < 12; ++i) EXPECT_FLOAT_EQ(by_position.features.data()[i], want.features.data()[i]);
}

TEST(Standardize, ImagesPerChannel) {
    Dataset ds;
    ds.features = Tensor::from({2, 1, 2, 2}, {0, 10, 2, 10, 4, 30, 6, 30});
    ds.schema.image_h = 1, ds.schema.image_w = 2, ds.schema.image_c = 2;
    Preprocessing p = fit_preprocessing(ds);
    ASSERT_EQ(p.mean.size(), 2u);
    EXPECT_NEAR(p.mean[0], 3.0f, 1e-6);
    EXPECT_NEAR(p.mean[1], 20.0f, 1e-6);
    EXPECT_EQ(p.input_shape, (Shape{1, 2, 2}));
    EXPECT_EQ(Preprocessing::from_json(p.to_json()).schema.image_c, 2);
}

TEST(Fingerprint, ChangesWithAnyValueOrName) {
    Dataset ds = toy({3, 3});
    const std::string base = dataset_fingerprint(ds);
    EXPECT_EQ(base.size(), 64u);
    EXPECT_EQ(dataset_fingerprint(subset(ds, {0, 1, 2, 3, 4, 5})), base);  // same content, a copy
    Dataset renamed = ds;
    renamed.name = "elsewhere.csv";
    EXPECT_EQ(dataset_fingerprint(renamed), base);  // where it came from is not content
    std::vector<std::string> seen = {base};
    auto expect_new = [&](const Dataset& d, const char* what) {
        std::string f = dataset_fingerprint(d);
        for (const auto& s : seen) EXPECT_NE(f, s) << what;
        seen.push_back(f);
    };
    Dataset v = subset(ds, {0, 1, 2, 3, 4, 5});
    v.features.at({4, 1}) = std::nextafter(v.features.at({4, 1}), 100.0f);
    expect_new(v, "one feature value by one ulp");
    Dataset l = subset(ds, {0, 1, 2, 3, 4, 5});
    l.labels[0] = 1;
    expect_new(l, "one label");
    Dataset f = ds;
    f.schema.feature_names[1] = "other";
    expect_new(f, "a feature name");
    Dataset c = ds;
    c.schema.class_names[0] = "C0";
    expect_new(c, "a class name");
    Dataset ln = ds;
    ln.schema.label_name = "z";
    expect_new(ln, "the label name");
    expect_new(subset(ds, {1, 0, 2, 3, 4, 5}), "sample order");
    expect_new(subset(ds, {0, 1, 2, 3, 4}), "one sample fewer");
}

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/data.h"
#include "tests/core/test_util.h"
#include "core/error.h"

using namespace cairn;

namespace {

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

// Runs `fn`, expects a parse_error whose message contains every one of `parts`.
template <class F> void expect_parse_error(F fn, std::initializer_list<std::string> parts) {
    try {
        fn();
        ADD_FAILURE() << "expected a parse_error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "parse_error") << e.what();
        for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
    }
}

}  // namespace

//-----------------------------------------------------------------------------
// CSV
//-----------------------------------------------------------------------------

TEST(Csv, StringLabelsSortedAndQuotesCrlfBom) {
    std::string text = "\xEF\xBB\xBF" "a,\"b, quoted\",label\r\n1,2.5,\"dog\"\r\n3,-4e1,cat\r\n\r\n5,6,\"say \"\"hi\"\"\"\r\n";
    Dataset ds = load_csv(text, "pets.csv");
    ASSERT_EQ(ds.size(), 3);
    EXPECT_EQ(ds.schema.feature_names, (std::vector<std::string>{"a", "b, quoted"}));
    EXPECT_EQ(ds.schema.label_name, "label");
    EXPECT_EQ(ds.schema.class_names, (std::vector<std::string>{"cat", "dog", "say \"hi\""}));
    EXPECT_EQ(ds.labels, (std::vector<int32_t>{1, 0, 2}));
    EXPECT_FLOAT_EQ(ds.features.at({0, 1}), 2.5f);
    EXPECT_FLOAT_EQ(ds.features.at({1, 1}), -40.0f);
    EXPECT_FLOAT_EQ(ds.features.at({2, 0}), 5.0f);
}

TEST(Csv, IntegerLabelsInNumericOrderAndLabelByName) {
    Dataset ds = load_csv("y,x1,x2\n10,1,2\n2,3,4\n-1,5,6\n2,7,8", "ints.csv", {.label_column = "y"});
    EXPECT_EQ(ds.schema.class_names, (std::vector<std::string>{"-1", "2", "10"}));
    EXPECT_EQ(ds.labels, (std::vector<int32_t>{2, 1, 0, 1}));
    EXPECT_EQ(ds.schema.feature_names, (std::vector<std::string>{"x1", "x2"}));
    EXPECT_FLOAT_EQ(ds.features.at({3, 1}), 8.0f);
}

// New data usually comes without its label: with label_optional, a header without the label column is all features.
TEST(Csv, LabelOptionalLoadsDataWithoutLabels) {
    Dataset live = load_csv("x1,x2\n1,2\n3,4\n", "live.csv", {.label_column = "y", .label_optional = true});
    EXPECT_EQ(live.schema.feature_names, (std::vector<std::string>{"x1", "x2"}));
    EXPECT_TRUE(live.labels.empty());
    EXPECT_TRUE(live.schema.label_name.empty());
    EXPECT_FLOAT_EQ(live.features.at({1, 1}), 4.0f);
    Dataset one = load_csv("x1\n7\n", "one.csv", {.label_column = "y", .label_optional = true});
    EXPECT_EQ(one.features.shape(), (Shape{1, 1}));
    // With the column present, it is the label as usual; without label_optional its absence is an error.
    Dataset labeled = load_csv("x1,y,x2\n1,a,2\n", "l.csv", {.label_column = "y", .label_optional = true});
    EXPECT_EQ(labeled.schema.class_names, (std::vector<std::string>{"a"}));
    EXPECT_EQ(labeled.schema.feature_names, (std::vector<std::string>{"x1", "x2"}));
    EXPECT_THROW(load_csv("x1,x2\n1,2\n", "live.csv", {.label_column = "y"}), Error);
}

TEST(Csv, Regression) {
    Dataset ds = load_csv("x,price\n1,10.5\n2,20.25\n", "houses.csv", {.task = Task::regression});
    EXPECT_EQ(ds.schema.task, Task::regression);
    ASSERT_TRUE(ds.targets.defined());
    EXPECT_EQ(ds.targets.shape(), (Shape{2, 1}));
    EXPECT_FLOAT_EQ(ds.targets.at({1, 0}), 20.25f);
    EXPECT_TRUE(ds.schema.class_names.empty());
    expect_parse_error([] { load_csv("x,price\n1,10.5\n2,cheap\n", "houses.csv", {.task = Task::regression}); },
                       {"houses.csv", "line 3", "price", "cheap"});
}

TEST(Csv, ErrorsNameFileLineColumnExpectedAndGot) {
    expect_parse_error([] { load_csv("", "empty.csv"); }, {"empty.csv", "empty"});
    expect_parse_error([] { load_csv("\xEF\xBB\xBF\n\n", "blank.csv"); }, {"blank.csv", "empty"});
    expect_parse_error([] { load_csv("a,b\n", "header_only.csv"); }, {"header_only.csv", "no data rows"});
    expect_parse_error([] { load_csv("a,b,c\n1,2,x\n1,2\n", "ragged.csv"); },
                       {"ragged.csv", "line 3", "expected 3 columns", "got 2"});
    expect_parse_error([] { load_csv("a,b,c\r\n1,2,x\r\n1,abc,y\r\n", "text.csv"); },
                       {"text.csv", "line 3", "column \"b\"", "expected a number", "got \"abc\""});
    expect_parse_error([] { load_csv("a,b,c\n1,2,x\n1,,y\n", "hole.csv"); },
                       {"hole.csv", "line 3", "column \"b\"", "missing value"});
    expect_parse_error([] { load_csv("a,b,c\n1,NA,x\n", "na.csv"); }, {"na.csv", "line 2", "\"b\"", "missing value", "NA"});
    expect_parse_error([] { load_csv("a,b,c\n1,2,\n", "nolabel.csv"); }, {"nolabel.csv", "line 2", "\"c\"", "missing label"});
    expect_parse_error([] { load_csv("a,b,c\n1,2,x\n", "f.csv", {.label_column = "species"}); },
                       {"f.csv", "line 1", "species", "not found", "a, b, c"});
    expect_parse_error([] { load_csv("a,b,c\n1,\"2,x\n", "quote.csv"); }, {"quote.csv", "line 2", "unterminated"});
    // A quoted cell spanning lines: the error on the next record names its physical line.
    expect_parse_error([] { load_csv("a,b,c\n1,2,\"x\ny\"\n1,q,z\n", "multi.csv"); }, {"multi.csv", "line 4", "\"b\""});
    expect_parse_error([] { load_csv("a,a,c\n1,2,x\n", "dup.csv"); }, {"dup.csv", "line 1", "duplicate", "\"a\""});
}

TEST(Csv, RealIrisFile) {
    Dataset ds = load_csv(test::read_file(std::string(CAIRN_SOURCE_DIR) + "/assets/datasets/iris.csv"), "iris.csv");
    EXPECT_EQ(ds.size(), 150);
    EXPECT_EQ(ds.features.dim(1), 4);
    EXPECT_EQ(ds.schema.class_names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
}

//-----------------------------------------------------------------------------
// gzip and IDX
//-----------------------------------------------------------------------------

namespace {

std::vector<uint8_t> idx_bytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> b = {0, 0, 8, static_cast<uint8_t>(dims.size())};
    for (uint32_t d : dims)
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

// gzip with a "stored" (uncompressed) deflate block, built by hand: exercises the header parser and CRC check.
uint32_t crc32_ref(const std::vector<uint8_t>& d) {
    uint32_t c = 0xFFFFFFFFu;
    for (uint8_t byte : d) {
        c ^= byte;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

std::vector<uint8_t> gzip_stored(const std::vector<uint8_t>& d, bool with_name) {
    std::vector<uint8_t> b = {0x1F, 0x8B, 8, static_cast<uint8_t>(with_name ? 0x08 : 0), 0, 0, 0, 0, 0, 3};
    if (with_name)
        for (char c : std::string("x.idx")) b.push_back(static_cast<uint8_t>(c));
    if (with_name) b.push_back(0);
    const uint16_t len = static_cast<uint16_t>(d.size());
    b.insert(b.end(), {1, static_cast<uint8_t>(len), static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(~len),
                       static_cast<uint8_t>(~len >> 8)});
    b.insert(b.end(), d.begin(), d.end());
    uint32_t crc = crc32_ref(d), size = static_cast<uint32_t>(d.size());
    for (int s = 0; s < 32; s += 8) b.push_back(static_cast<uint8_t>(crc >> s));
    for (int s = 0; s < 32; s += 8) b.push_back(static_cast<uint8_t>(size >> s));
    return b;
}

}  // namespace

TEST(Idx, ParsesRawAndGzipAndNormalizes) {
    std::vector<uint8_t> pixels = {0, 255, 51, 102, 0, 0, 0, 0};  // 2 images of 2x2
    auto im = idx_bytes({2, 2, 2}, pixels);
    auto lb = idx_bytes({2}, {3, 9});
    for (bool gz : {false, true}) {
        auto imb = gz ? gzip_stored(im, true) : im;
        auto lbb = gz ? gzip_stored(lb, false) : lb;
        Dataset ds = load_idx(imb, "im", lbb, "lb");
        EXPECT_EQ(ds.features.shape(), (Shape{2, 2, 2, 1}));
        EXPECT_FLOAT_EQ(ds.features.at({0, 0, 1, 0}), 1.0f);
        EXPECT_FLOAT_EQ(ds.features.at({0, 1, 0, 0}), 0.2f);
        EXPECT_EQ(ds.labels, (std::vector<int32_t>{3, 9}));
        EXPECT_EQ(ds.schema.class_names.size(), 10u);
        EXPECT_EQ(ds.schema.class_names[9], "Ankle boot");
        EXPECT_EQ(ds.schema.image_h, 2);
    }
}

TEST(Idx, CorruptBytesGiveClearErrors) {
    auto im = idx_bytes({2, 2, 2}, std::vector<uint8_t>(8, 7));
    auto lb = idx_bytes({2}, {1, 2});
    expect_parse_error([&] { parse_idx(std::vector<uint8_t>{1, 2}, "tiny.idx"); }, {"tiny.idx", "truncated"});
    auto bad_magic = im;
    bad_magic[0] = 7;
    expect_parse_error([&] { parse_idx(bad_magic, "m.idx"); }, {"m.idx", "magic"});
    auto bad_type = im;
    bad_type[2] = 0x0D;
    expect_parse_error([&] { parse_idx(bad_type, "t.idx"); }, {"t.idx", "type 13", "expected 8"});
    auto short_data = im;
    short_data.pop_back();
    expect_parse_error([&] { parse_idx(short_data, "s.idx"); }, {"s.idx", "need 8", "got 7"});
    expect_parse_error([&] { load_idx(im, "im.idx", idx_bytes({3}, {1, 2, 3}), "lb.idx"); },
                       {"lb.idx", "expected 2 labels", "got 3"});
    expect_parse_error([&] { load_idx(im, "im.idx", idx_bytes({2}, {1, 10}), "lb.idx"); }, {"lb.idx", "is 10"});
    expect_parse_error([&] { load_idx(lb, "lb.idx", lb, "lb.idx"); }, {"lb.idx", "image array"});
    auto gz = gzip_stored(im, true);
    auto flipped = gz;
    flipped[flipped.size() - 12] ^= 0x40;  // a data byte: CRC must catch it
    expect_parse_error([&] { parse_idx(flipped, "c.gz"); }, {"c.gz", "CRC"});
    auto cut = std::vector<uint8_t>(gz.begin(), gz.begin() + 20);
    expect_parse_error([&] { parse_idx(cut, "cut.gz"); }, {"cut.gz", "gzip"});
    auto bad_len = gz;
    bad_len[bad_len.size() - 4] ^= 1;
    expect_parse_error([&] { gunzip(bad_len, "len.gz"); }, {"len.gz", "corrupt"});
}

TEST(Idx, RealFashionMnistTestFiles) {
    const std::string dir = "/usr/share/datasets/fashion-mnist/";
    if (!file_exists(dir + "t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist not installed";
    auto im = test::read_file_bytes(dir + "t10k-images-idx3-ubyte.gz");
    auto lb = test::read_file_bytes(dir + "t10k-labels-idx1-ubyte.gz");
    Dataset ds = load_idx(im, "t10k-images-idx3-ubyte.gz", lb, "t10k-labels-idx1-ubyte.gz");
    ASSERT_EQ(ds.features.shape(), (Shape{10000, 28, 28, 1}));
    // The test set is balanced: 1000 per class. First labels of the published test set: 9 2 1 1 6.
    std::vector<int> counts(10, 0);
    for (int32_t l : ds.labels) counts[static_cast<size_t>(l)]++;
    for (int c : counts) EXPECT_EQ(c, 1000);
    EXPECT_EQ((std::vector<int32_t>(ds.labels.begin(), ds.labels.begin() + 5)), (std::vector<int32_t>{9, 2, 1, 1, 6}));
    float lo = 1, hi = 0;
    for (int64_t i = 0; i < ds.features.numel(); ++i) {
        lo = std::min(lo, ds.features.data()[i]);
        hi = std::max(hi, ds.features.data()[i]);
    }
    EXPECT_EQ(lo, 0.0f);
    EXPECT_EQ(hi, 1.0f);
    Dataset few = load_idx(im, "im", lb, "lb", {.limit = 7});
    EXPECT_EQ(few.size(), 7);
}

//-----------------------------------------------------------------------------
// Bundled
//-----------------------------------------------------------------------------

TEST(Bundled, CsvDatasetsAreEmbedded) {
    auto names = bundled_dataset_names();
    for (const char* want : {"iris", "digits", "breast_cancer"}) EXPECT_TRUE(has_bundled_dataset(want)) << want;
    Dataset iris = load_bundled_dataset("iris");
    EXPECT_EQ(iris.size(), 150);
    EXPECT_EQ(iris.name, "iris");
    Dataset digits = load_bundled_dataset("digits");
    EXPECT_EQ(digits.features.shape(), (Shape{1797, 64}));
    EXPECT_EQ(digits.num_classes(), 10);
    EXPECT_EQ(digits.schema.class_names[9], "9");
    Dataset bc = load_bundled_dataset("breast_cancer");
    EXPECT_EQ(bc.features.shape(), (Shape{569, 30}));
    EXPECT_EQ(bc.schema.class_names, (std::vector<std::string>{"benign", "malignant"}));
    try {
        load_bundled_dataset("nope");
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "not_found");
        EXPECT_NE(std::string(e.what()).find("iris"), std::string::npos);
    }
}

TEST(Bundled, FashionMnistSubset) {
    if (!has_bundled_dataset("fashion_mnist_small")) GTEST_SKIP() << "built without dataset-fashion-mnist";
    Dataset tr = load_bundled_dataset("fashion_mnist_small");
    EXPECT_EQ(tr.features.shape(), (Shape{2000, 28, 28, 1}));
    Dataset te = load_bundled_dataset("fashion_mnist_small_test");
    EXPECT_EQ(te.features.dim(0), 500);
    EXPECT_EQ(te.labels[0], 9);
}

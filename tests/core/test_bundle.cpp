// Byte formats: safetensors (checked against bytes written by hand from the published layout), sealed records and
// packages, including every truncation of a valid file.
#include <gtest/gtest.h>

#include <cstring>

#include "core/bundle.h"
#include "core/hash.h"
#include "core/random.h"

using namespace cairn;

namespace {

Bytes le64(uint64_t v) {
    Bytes b;
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return b;
}
Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
Bytes str(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return "no error";
}

}  // namespace

TEST(Safetensors, EncodesThePublishedLayout) {
    // Hand-written: 8-byte LE header size, JSON header padded with spaces to 8 bytes, raw LE data.
    std::string header = R"({"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})";
    header.append((8 - header.size() % 8) % 8, ' ');
    Bytes expected = cat(cat(le64(header.size()), str(header)), Bytes{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0});
    EXPECT_EQ(safetensors_encode({{"a", Tensor::from({2}, {1.0f, -2.0f})}}), expected);
}

TEST(Safetensors, DecodesAHandWrittenFileWithMetadataAndAllDtypes) {
    // Entries out of order in the JSON and data in a different order, as other writers produce.
    std::string header = R"({"__metadata__":{"format":"pt"},"w":{"dtype":"I32","shape":[1,2],"data_offsets":[3,11]},)"
                         R"("q":{"dtype":"I8","shape":[3],"data_offsets":[0,3]},"f":{"dtype":"F32","shape":[1],"data_offsets":[11,15]}})";
    Bytes data = {0x01, 0xff, 0x7f, 0x05, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0, 0, 0x40, 0x40};
    Bytes file = cat(cat(le64(header.size()), str(header)), data);
    std::map<std::string, std::string> meta;
    auto ts = safetensors_decode(file.data(), file.size(), "test", &meta);
    ASSERT_EQ(ts.size(), 3u);
    EXPECT_EQ(meta["format"], "pt");
    EXPECT_EQ(ts[0].name, "q");
    EXPECT_EQ(ts[0].tensor.dtype(), DType::i8);
    EXPECT_EQ(ts[0].tensor.data<int8_t>()[1], -1);
    EXPECT_EQ(ts[0].tensor.data<int8_t>()[2], 127);
    EXPECT_EQ(ts[1].name, "w");
    EXPECT_EQ(ts[1].tensor.shape(), (Shape{1, 2}));
    EXPECT_EQ(ts[1].tensor.data<int32_t>()[0], 5);
    EXPECT_EQ(ts[1].tensor.data<int32_t>()[1], -2);
    EXPECT_EQ(ts[2].name, "f");
    EXPECT_EQ(ts[2].tensor.data<float>()[0], 3.0f);
}

TEST(Safetensors, RoundTripsAndRejectsEveryTruncation) {
    Rng rng(7);
    Tensor a = Tensor::empty({3, 5});
    for (int i = 0; i < 15; ++i) a.data<float>()[i] = rng.normal();
    Tensor q = Tensor::empty({4}, DType::i8), n = Tensor::empty({2, 2}, DType::i32);
    for (int i = 0; i < 4; ++i) q.data<int8_t>()[i] = static_cast<int8_t>(i * 50 - 100), n.data<int32_t>()[i] = i * 1000003;
    std::vector<NamedTensor> in = {{"dense.weight", a}, {"q", q}, {"n", n}, {"empty", Tensor::empty({0, 3})}};
    Bytes b = safetensors_encode(in);
    auto out = safetensors_decode(b, "rt");
    ASSERT_EQ(out.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        EXPECT_EQ(out[i].name, in[i].name);
        EXPECT_EQ(out[i].tensor.shape(), in[i].tensor.shape());
        size_t bytes = in[i].tensor.numel() * dtype_size(in[i].tensor.dtype());
        EXPECT_EQ(std::memcmp(out[i].tensor.data<uint8_t>(), in[i].tensor.data<uint8_t>(), bytes), 0);
    }
    for (size_t len = 0; len < b.size(); ++len)
        EXPECT_NE(code_of([&] { safetensors_decode(b.data(), len, "cut"); }), "no error") << len;
    Bytes longer = b;
    longer.push_back(0);
    EXPECT_EQ(code_of([&] { safetensors_decode(longer, "long"); }), "oversized");
}

TEST(Safetensors, RejectsBadHeaders) {
    auto file = [](const std::string& h, size_t data) { return cat(cat(le64(h.size()), str(h)), Bytes(data, 0)); };
    EXPECT_EQ(code_of([&] { safetensors_decode(file(R"({"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", 2), "x"); }), "unsupported_dtype");
    EXPECT_EQ(code_of([&] { safetensors_decode(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4), "x"); }), "invalid_format");
    EXPECT_EQ(code_of([&] {
        safetensors_decode(file(R"({"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"I8","shape":[2],"data_offsets":[1,3]}})", 3), "x");
    }), "invalid_format");
    EXPECT_EQ(code_of([&] { safetensors_decode(file("{not json}", 0), "x"); }), "parse_error");
    Bytes huge = cat(le64(1ull << 40), str("{}"));
    EXPECT_EQ(code_of([&] { safetensors_decode(huge, "x"); }), "oversized");
}

TEST(SealedRecord, AnyFlippedByteIsDetected) {
    Bytes b = seal_record(Json{{"model", "iris"}, {"aliases", {{"production", 3}}}});
    EXPECT_EQ(unseal_record(b, "r")["aliases"]["production"], 3);
    for (size_t i = 0; i < b.size(); ++i) {
        Bytes c = b;
        c[i] ^= 0x01;
        EXPECT_EQ(code_of([&] { unseal_record(c, "r"); }), "integrity") << i;
    }
}

TEST(Package, RoundTripAndPreciseErrors) {
    Package p;
    p.header = {{"format", "cairn.package"}, {"format_version", 1}, {"kind", "version"}, {"models", Json::array()}};
    Bytes b1 = str("first blob"), b2 = str("second");
    p.blobs[sha256_hex(b1.data(), b1.size())] = b1;
    p.blobs[sha256_hex(b2.data(), b2.size())] = b2;
    Bytes file = package_encode(p);
    Package q = package_decode(file, "f");
    EXPECT_EQ(q.blobs, p.blobs);
    EXPECT_EQ(q.header["kind"], "version");
    for (size_t len = 0; len < file.size(); ++len) {
        Bytes cut(file.begin(), file.begin() + len);
        std::string c = code_of([&] { package_decode(cut, "f"); });
        EXPECT_TRUE(c == "truncated" || c == "parse_error") << len << " " << c;
    }
    Bytes longer = file;
    longer.push_back('x');
    EXPECT_EQ(code_of([&] { package_decode(longer, "f"); }), "oversized");
    EXPECT_EQ(code_of([&] { package_decode(safetensors_encode({{"a", Tensor::zeros({2})}}), "f"); }), "wrong_format");
    EXPECT_EQ(code_of([&] { package_decode(str("{\"format\": 1}"), "f"); }), "wrong_format");
    Package v2 = p;
    v2.header["format_version"] = 2;
    EXPECT_EQ(code_of([&] { package_decode(package_encode(v2), "f"); }), "unsupported_version");
    Bytes flipped = file;
    flipped.back() ^= 0x20;
    EXPECT_EQ(code_of([&] { package_decode(flipped, "f"); }), "integrity");
    Rng rng(3);
    Bytes garbage(300);
    for (auto& x : garbage) x = static_cast<uint8_t>(rng.next_u32());
    EXPECT_EQ(code_of([&] { package_decode(garbage, "f"); }), "wrong_format");
    try {
        package_decode(safetensors_encode({{"a", Tensor::zeros({2})}}), "model.bin");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("safetensors"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("model.bin"), std::string::npos) << e.what();
    }
}

#include "core/bundle.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/hash.h"

namespace cairn {

namespace {

void put_u64(Bytes& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t get_u64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}
std::string hex_prefix(const uint8_t* p, size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) (s += d[p[i] >> 4]) += d[p[i] & 15];
    return s;
}
std::string num(uint64_t v) { return std::to_string(v); }

// Header sizes above this are refused before allocating (the safetensors reference implementation uses 100 MB).
constexpr uint64_t kMaxHeader = 100u << 20;

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] safetensors
//-----------------------------------------------------------------------------

const char* safetensors_dtype(DType t) { return t == DType::f32 ? "F32" : t == DType::i8 ? "I8" : "I32"; }

Bytes safetensors_encode(const std::vector<NamedTensor>& tensors, const std::map<std::string, std::string>& metadata) {
    Json header = Json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const NamedTensor& nt : tensors) {
        if (!nt.tensor.defined()) fail("invalid_argument", "safetensors: tensor '" + nt.name + "' is undefined");
        if (nt.name.empty() || nt.name == "__metadata__") fail("invalid_argument", "safetensors: bad tensor name '" + nt.name + "'");
        if (header.contains(nt.name)) fail("invalid_argument", "safetensors: duplicate tensor name '" + nt.name + "'");
        uint64_t bytes = static_cast<uint64_t>(nt.tensor.numel()) * dtype_size(nt.tensor.dtype());
        header[nt.name] = {{"dtype", safetensors_dtype(nt.tensor.dtype())},
                           {"shape", nt.tensor.shape()},
                           {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');  // the format allows trailing spaces; aligns the data to 8 bytes
    Bytes out;
    out.reserve(8 + h.size() + offset);
    put_u64(out, h.size());
    out.insert(out.end(), h.begin(), h.end());
    for (const NamedTensor& nt : tensors) {
        Tensor c = nt.tensor.contiguous();
        const uint8_t* p = c.data<uint8_t>();
        out.insert(out.end(), p, p + static_cast<size_t>(c.numel()) * dtype_size(c.dtype()));
    }
    return out;
}

std::vector<NamedTensor> safetensors_decode(const uint8_t* data, size_t size, const std::string& what,
                                            std::map<std::string, std::string>* metadata) {
    auto bad = [&](const std::string& code, const std::string& msg) { fail(code, what + ": " + msg); };
    if (size < 8) bad("truncated", "safetensors data is " + num(size) + " bytes, shorter than its 8-byte header length");
    uint64_t n = get_u64(data);
    if (n > kMaxHeader) bad("oversized", "safetensors header length " + num(n) + " exceeds the 100 MB limit (not safetensors?)");
    if (n > size - 8) bad("truncated", "safetensors header claims " + num(n) + " bytes but only " + num(size - 8) + " follow");
    if (n < 2 || data[8] != '{') bad("wrong_format", "safetensors header does not start with '{'");
    Json header = Json::parse(data + 8, data + 8 + n, nullptr, false);
    if (header.is_discarded() || !header.is_object()) bad("parse_error", "safetensors header is not a JSON object");
    struct Entry { uint64_t begin, end; NamedTensor nt; };
    std::vector<Entry> entries;
    for (auto& [name, e] : header.items()) {
        if (name == "__metadata__") {
            if (!e.is_object()) bad("invalid_format", "safetensors __metadata__ is not an object");
            for (auto& [k, v] : e.items()) {
                if (!v.is_string()) bad("invalid_format", "safetensors __metadata__." + k + " is not a string");
                if (metadata) (*metadata)[k] = v.get<std::string>();
            }
            continue;
        }
        std::string where = "tensor '" + name + "'";
        if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
            bad("invalid_format", where + " needs dtype, shape and data_offsets");
        if (!e["dtype"].is_string()) bad("invalid_format", where + ": dtype is not a string");
        std::string dt = e["dtype"].get<std::string>();
        DType dtype;
        if (dt == "F32") dtype = DType::f32;
        else if (dt == "I8") dtype = DType::i8;
        else if (dt == "I32") dtype = DType::i32;
        else bad("unsupported_dtype", where + " has dtype " + dt + "; Cairn reads F32, I8 and I32");
        Shape shape;
        if (!e["shape"].is_array()) bad("invalid_format", where + ": shape is not an array");
        uint64_t numel = 1;
        for (auto& d : e["shape"]) {
            if (!d.is_number_unsigned()) bad("invalid_format", where + ": shape has a non-integer or negative dimension");
            uint64_t v = d.get<uint64_t>();
            if (v > (1ull << 40) || (v && numel > (1ull << 40) / v)) bad("oversized", where + ": shape too large");
            numel *= v;
            shape.push_back(static_cast<int64_t>(v));
        }
        auto& off = e["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            bad("invalid_format", where + ": data_offsets must be [begin, end]");
        uint64_t b = off[0].get<uint64_t>(), en = off[1].get<uint64_t>();
        if (en < b || en - b != numel * dtype_size(dtype))
            bad("invalid_format", where + ": data_offsets [" + num(b) + ", " + num(en) + "] do not hold " + shape_str(shape) + " " + dt);
        entries.push_back({b, en, {name, Tensor()}});
        entries.back().nt.tensor = Tensor::empty(shape, dtype);
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
    uint64_t data_size = size - 8 - n, at = 0;
    for (const Entry& e : entries) {
        if (e.begin != at) bad("invalid_format", "tensor '" + e.nt.name + "' data starts at " + num(e.begin) + ", expected " + num(at) + " (holes or overlaps)");
        at = e.end;
    }
    if (at > data_size) bad("truncated", "safetensors data is " + num(data_size) + " bytes, the header describes " + num(at));
    if (at < data_size) bad("oversized", num(data_size - at) + " bytes after the last tensor");
    std::vector<NamedTensor> out;
    const uint8_t* base = data + 8 + n;
    for (Entry& e : entries) {
        if (e.end > e.begin) std::memcpy(e.nt.tensor.data<uint8_t>(), base + e.begin, e.end - e.begin);
        out.push_back(std::move(e.nt));
    }
    return out;
}

//-----------------------------------------------------------------------------
// [SECTION] Sealed records
//-----------------------------------------------------------------------------

Bytes seal_record(const Json& record) {
    std::string body = record.dump();
    std::string s = sha256_hex(body) + "\n" + body;
    return Bytes(s.begin(), s.end());
}

Json unseal_record(const Bytes& bytes, const std::string& what) {
    if (bytes.size() < 66 || bytes[64] != '\n') fail("integrity", what + " is damaged (no seal)");
    std::string stored(bytes.begin(), bytes.begin() + 64);
    if (sha256_hex(bytes.data() + 65, bytes.size() - 65) != stored)
        fail("integrity", what + " is damaged (SHA-256 of its contents does not match its seal)");
    Json j = Json::parse(bytes.begin() + 65, bytes.end(), nullptr, false);
    if (j.is_discarded()) fail("parse_error", what + " is not valid JSON");
    return j;
}

//-----------------------------------------------------------------------------
// [SECTION] Package
//-----------------------------------------------------------------------------

Bytes package_encode(const Package& package) {
    Json header = package.header;
    Json blobs = Json::array();
    uint64_t offset = 0;
    for (auto& [sha, b] : package.blobs) {
        blobs.push_back({{"sha256", sha}, {"offset", offset}, {"size", b.size()}});
        offset += b.size();
    }
    header["blobs"] = blobs;
    std::string h = header.dump();
    Bytes out(kPackageMagic, kPackageMagic + 8);
    put_u64(out, h.size());
    std::string hh = sha256_hex(h);
    out.insert(out.end(), hh.begin(), hh.end());
    out.insert(out.end(), h.begin(), h.end());
    for (auto& [sha, b] : package.blobs) out.insert(out.end(), b.begin(), b.end());
    return out;
}

Package package_decode(const Bytes& file, const std::string& what) {
    auto bad = [&](const std::string& code, const std::string& msg) { fail(code, what + ": " + msg); };
    const uint8_t* p = file.data();
    size_t size = file.size();
    if (size == 0) bad("truncated", "the file is empty");
    if (size >= 8 && std::memcmp(p, kPackageMagic, 8) != 0) {
        // Name the common look-alikes so the user knows what they passed.
        std::string kind = "unknown content (starts with " + hex_prefix(p, std::min<size_t>(size, 8)) + ")";
        bool text = std::all_of(p, p + std::min<size_t>(size, 64), [](uint8_t c) { return c == '\n' || c == '\r' || c == '\t' || (c >= 32 && c < 127); });
        if (text) kind = "a text file";
        if (p[0] == '{' || p[0] == '[') kind = "JSON text";
        else if (size >= 4 && std::memcmp(p, "PK\x03\x04", 4) == 0) kind = "a zip archive";
        else if (size >= 2 && p[0] == 0x1f && p[1] == 0x8b) kind = "a gzip file";
        else if (size > 9 && get_u64(p) < size && p[8] == '{') kind = "a bare safetensors file";
        bad("wrong_format", "not a Cairn package (expected the magic 'CAIRNPKG'; this looks like " + kind + ")");
    }
    constexpr size_t kPre = 8 + 8 + 64;  // magic, header length, SHA-256 (hex) of the header
    if (size < kPre) {
        if (std::memcmp(p, kPackageMagic, std::min<size_t>(size, 8)) != 0) bad("wrong_format", "not a Cairn package (too short and no 'CAIRNPKG' magic)");
        bad("truncated", "the file is " + num(size) + " bytes; a Cairn package starts with an 80-byte preamble");
    }
    uint64_t n = get_u64(p + 8);
    if (n > size - kPre) bad("truncated", "the header claims " + num(n) + " bytes but only " + num(size - kPre) + " follow");
    if (sha256_hex(p + kPre, n) != std::string(p + 16, p + kPre))
        bad("integrity", "the package header does not match its SHA-256 (the file was damaged or edited)");
    Json header = Json::parse(p + kPre, p + kPre + n, nullptr, false);
    if (header.is_discarded() || !header.is_object()) bad("parse_error", "the package header is not a JSON object (garbage or damaged file)");
    if (header.value("format", "") != "cairn.package") bad("wrong_format", "the header's format is not \"cairn.package\"");
    if (!header.contains("format_version") || !header["format_version"].is_number_integer())
        bad("invalid_format", "the header has no integer format_version");
    int fv = header["format_version"].get<int>();
    if (fv > kPackageFormatVersion || fv < 1)
        bad("unsupported_version", "package format version " + std::to_string(fv) + "; this build reads version " + std::to_string(kPackageFormatVersion));
    if (!header.contains("blobs") || !header["blobs"].is_array()) bad("invalid_format", "the header has no blobs list");
    Package pkg;
    uint64_t region = size - kPre - n, at = 0;
    for (auto& b : header["blobs"]) {
        if (!b.is_object() || !b.contains("sha256") || !b["sha256"].is_string() || !b.contains("offset") ||
            !b["offset"].is_number_unsigned() || !b.contains("size") || !b["size"].is_number_unsigned())
            bad("invalid_format", "a blobs entry needs sha256, offset and size");
        std::string sha = b["sha256"].get<std::string>();
        uint64_t off = b["offset"].get<uint64_t>(), sz = b["size"].get<uint64_t>();
        if (off != at) bad("invalid_format", "blob " + sha + " starts at " + num(off) + ", expected " + num(at));
        if (sz > region - std::min(region, at))
            bad("truncated", "blob " + sha + " needs bytes " + num(off) + ".." + num(off + sz) + " of the data region, which has " + num(region));
        at += sz;
        Bytes data(p + kPre + n + off, p + kPre + n + off + sz);
        if (sha256_hex(data.data(), data.size()) != sha) bad("integrity", "blob " + sha + " does not match its SHA-256");
        if (!pkg.blobs.emplace(sha, std::move(data)).second) bad("invalid_format", "blob " + sha + " is listed twice");
    }
    if (at < region) bad("oversized", num(region - at) + " unexpected bytes after the last blob");
    header.erase("blobs");
    pkg.header = std::move(header);
    return pkg;
}

}  // namespace cairn

// Bundle: the byte formats of the registry. Pure functions over bytes, no I/O (the caller reads and writes files).
//
//   safetensors   tensors in the layout documented at huggingface.co/docs/safetensors: 8-byte little-endian
//                 header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
//                 then the raw little-endian data. Cairn writes and reads F32, I8 and I32.
//   sealed record a small JSON record stored with its own SHA-256 ("<64 hex>\n<json>") so that a changed byte in
//                 any registry record is detected on read, not only in the content-addressed blobs.
//   package       one file holding one version or a whole registry for export/import: magic, header length, header SHA-256, JSON header,
//                 blob region. Layout and the manifest schema are documented in core/bundle.md.
//
// Every decoder checks everything before returning and throws cairn::Error naming what is wrong (truncated,
// oversized, wrong format, unsupported format version, integrity, ...); none of them returns partial results.
//
// Index of this file
// [SECTION] safetensors
// [SECTION] Sealed records
// [SECTION] Package
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/artifact.h"
#include "core/store.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] safetensors
//-----------------------------------------------------------------------------

// Encodes the tensors in the order given (names must be unique, tensors defined). metadata: string -> string.
Bytes safetensors_encode(const std::vector<NamedTensor>& tensors, const std::map<std::string, std::string>& metadata = {});
// Decodes and validates (header bounds, JSON, dtypes, shapes, offsets contiguous and exactly covering the data).
// `what` names the bytes in errors, e.g. "blob 3fa1... of iris/2". Tensors come back in data order.
std::vector<NamedTensor> safetensors_decode(const uint8_t* data, size_t size, const std::string& what,
                                            std::map<std::string, std::string>* metadata = nullptr);
inline std::vector<NamedTensor> safetensors_decode(const Bytes& b, const std::string& what) {
    return safetensors_decode(b.data(), b.size(), what);
}
// "F32", "I8", "I32" (the safetensors spelling).
const char* safetensors_dtype(DType t);

//-----------------------------------------------------------------------------
// [SECTION] Sealed records
//-----------------------------------------------------------------------------

Bytes seal_record(const Json& record);
// Throws Error("integrity") when the hash does not match, naming `what` (e.g. "record version/iris/0000000002").
Json unseal_record(const Bytes& bytes, const std::string& what);

//-----------------------------------------------------------------------------
// [SECTION] Package
//-----------------------------------------------------------------------------

inline constexpr char kPackageMagic[9] = "CAIRNPKG";
inline constexpr int kPackageFormatVersion = 1;

struct Package {
    Json header;                          // {"format", "format_version", "kind", "models": [...]} (see bundle.md)
    std::map<std::string, Bytes> blobs;   // sha256 hex -> bytes
};

Bytes package_encode(const Package& package);
// Checks framing, header, format version, every blob's size and SHA-256 and the absence of trailing bytes.
// Registry-level checks (manifests, references) are done by the registry's import planner.
Package package_decode(const Bytes& file, const std::string& what);

}  // namespace cairn

// Content hashes. SHA-256 from libsodium (Debian's library natively, its sources compiled in the wasm build).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace cairn {

// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(const void* data, size_t size);
inline std::string sha256_hex(const std::string& s) { return sha256_hex(s.data(), s.size()); }

// Incremental hashing for data that arrives in pieces (dataset fingerprints).
class Sha256 {
public:
    Sha256();
    Sha256& update(const void* data, size_t size);
    Sha256& update(const std::string& s) { return update(s.data(), s.size()); }
    std::string hex();  // finishes; the object must not be updated afterwards

private:
    alignas(16) unsigned char state_[128];
};

}  // namespace cairn

#include "core/hash.h"

#include <sodium/crypto_hash_sha256.h>

namespace cairn {

static_assert(sizeof(crypto_hash_sha256_state) <= 128, "Sha256::state_ too small");

static std::string to_hex(const unsigned char* d, size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s(2 * n, '0');
    for (size_t i = 0; i < n; ++i) {
        s[2 * i] = digits[d[i] >> 4];
        s[2 * i + 1] = digits[d[i] & 15];
    }
    return s;
}

std::string sha256_hex(const void* data, size_t size) {
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(out, static_cast<const unsigned char*>(data), size);
    return to_hex(out, sizeof out);
}

Sha256::Sha256() { crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_)); }

Sha256& Sha256::update(const void* data, size_t size) {
    crypto_hash_sha256_update(reinterpret_cast<crypto_hash_sha256_state*>(state_),
                              static_cast<const unsigned char*>(data), size);
    return *this;
}

std::string Sha256::hex() {
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_), out);
    return to_hex(out, sizeof out);
}

}  // namespace cairn

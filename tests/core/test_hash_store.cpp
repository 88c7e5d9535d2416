#include <gtest/gtest.h>

#include "core/hash.h"
#include "core/store.h"
#include "tests/core/store_contract.h"

using namespace cairn;

// FIPS 180-2 test vectors.
TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    std::string million(1000000, 'a');
    EXPECT_EQ(Sha256().update(million.substr(0, 12345)).update(million.substr(12345)).hex(),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(MemoryStore, BatchesAreAllOrNothing) {
    MemoryStore s;
    test::expect_conditional_batches(s);
}

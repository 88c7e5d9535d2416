#include <gtest/gtest.h>

#include "core/hash.h"
#include "core/store.h"

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

static Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(MemoryStore, BatchesAreAllOrNothing) {
    MemoryStore s;
    Batch b;
    b.conditions.push_back({"counter", std::nullopt});
    b.writes.push_back({"counter", bytes("1")});
    b.writes.push_back({"v/1", bytes("one")});
    ASSERT_TRUE(s.commit(b));
    // Same plan again: the condition (counter absent) no longer holds, so nothing is written.
    b.writes[1] = {"v/2", bytes("two")};
    EXPECT_FALSE(s.commit(b));
    EXPECT_FALSE(s.get("v/2"));
    Batch next;
    next.conditions.push_back({"counter", bytes("1")});
    next.writes.push_back({"counter", bytes("2")});
    next.writes.push_back({"v/2", bytes("two")});
    next.writes.push_back({"v/1", std::nullopt});
    ASSERT_TRUE(s.commit(next));
    EXPECT_EQ(s.list("v/"), std::vector<std::string>{"v/2"});
    EXPECT_EQ(*s.get("counter"), bytes("2"));
}

// The Store contract (core/store.h) as one scenario every implementation must pass: conditional batches are
// applied whole or not at all. Used by the MemoryStore test here and the file store test in tests/native/.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/store.h"

namespace cairn::test {

// Leaves the store holding counter = "2" and v/2 = "two" (v/1 deleted), for callers that check more (e.g. reopening).
inline void expect_conditional_batches(Store& s) {
    auto b8 = [](const std::string& t) { return Bytes(t.begin(), t.end()); };
    Batch b;
    b.conditions.push_back({"counter", std::nullopt});
    b.writes.push_back({"counter", b8("1")});
    b.writes.push_back({"v/1", b8("one")});
    ASSERT_TRUE(s.commit(b)) << s.describe();
    // Same plan again: the condition (counter absent) no longer holds, so nothing is written.
    b.writes[1] = {"v/2", b8("two")};
    EXPECT_FALSE(s.commit(b)) << s.describe();
    EXPECT_FALSE(s.get("v/2")) << s.describe();
    Batch next;
    next.conditions.push_back({"counter", b8("1")});
    next.writes.push_back({"counter", b8("2")});
    next.writes.push_back({"v/2", b8("two")});
    next.writes.push_back({"v/1", std::nullopt});
    ASSERT_TRUE(s.commit(next)) << s.describe();
    EXPECT_EQ(s.list("v/"), std::vector<std::string>{"v/2"}) << s.describe();
    EXPECT_EQ(*s.get("counter"), b8("2")) << s.describe();
}

}  // namespace cairn::test

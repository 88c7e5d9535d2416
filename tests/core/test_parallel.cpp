#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "core/parallel.h"

namespace cairn {

// Every task index runs exactly once, for any pool size (serial in wasm without -pthread).
TEST(Parallel, EveryTaskOnceForAnyThreadCount) {
    for (int t : {1, 2, 3}) {
        set_num_threads(t);
        EXPECT_EQ(num_threads(), CAIRN_THREADS ? t : 1);
        std::vector<std::atomic<int>> hits(997);
        for (int rep = 0; rep < 50; ++rep) parallel_for(int(hits.size()), [&](int i) { hits[i]++; });
        for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 50) << "task " << i << " threads " << t;
    }
    set_num_threads(0);
}

// A nested call from inside a task runs serially instead of deadlocking.
TEST(Parallel, NestedCallRunsSerially) {
    set_num_threads(2);
    std::atomic<int> total{0};
    parallel_for(4, [&](int) { parallel_for(5, [&](int) { total++; }); });
    EXPECT_EQ(total.load(), 20);
    set_num_threads(0);
}

}  // namespace cairn

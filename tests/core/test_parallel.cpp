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

// Many short calls back to back: a worker that wakes after its call has moved on must not claim a task of the
// next call with the old function, nor leave a call before its tasks are done (each call checks its own count).
TEST(Parallel, BackToBackShortCallsEachRunTheirOwnTasksOnce) {
    for (int t : {2, 3}) {
        set_num_threads(t);
        for (int call = 0; call < 20000; ++call) {
            const int n = 2 + call % 5;
            std::vector<int> hits(n, 0);  // plain ints: a task of another call writing here would be a race, and a miss
            parallel_for(n, [&](int i) {
                volatile int busy = 0;  // a few hundred ns, so workers hold tasks while the caller runs out of them
                for (int j = 0; j < 200 + 100 * i; ++j) busy = busy + j;
                hits[i] += call + 1;
            });
            for (int i = 0; i < n; ++i) ASSERT_EQ(hits[i], call + 1) << "call " << call << " task " << i << " threads " << t;
        }
    }
    set_num_threads(0);
}

// More tasks than one call can count (2^16 - 1) still run each exactly once.
TEST(Parallel, MoreTasksThanOneCallCounts) {
    set_num_threads(2);
    std::vector<std::atomic<int>> hits(70001);
    parallel_for(int(hits.size()), [&](int i) { hits[i]++; });
    for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << "task " << i;
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

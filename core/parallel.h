// parallel.h: a small persistent thread pool for splitting kernel work over output blocks.
// Size: $CAIRN_THREADS, else 1 (natively too: threads only when asked), overridable with set_num_threads().
// 1 thread = no pool, the serial path. In a wasm build without -pthread this always runs serially; with
// -pthread (cairn-core-mt) at most CAIRN_MAX_THREADS (the pre-spawned web workers + the calling thread).
// Callers must split work so that each task writes disjoint outputs and never splits a reduction:
// results are then bit-identical for any thread count.
#pragma once
#include <functional>

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define CAIRN_THREADS 0
#else
#define CAIRN_THREADS 1
#endif

namespace cairn {

int num_threads();            // current pool size (>= 1)
void set_num_threads(int n);  // n <= 0: default ($CAIRN_THREADS or 1); clamped to 1..CAIRN_MAX_THREADS
// Runs fn(0) .. fn(n_tasks - 1), possibly concurrently; returns when all are done. Not reentrant:
// a nested call from inside a task runs serially. Tasks start in index order, each on a thread that runs it to the
// end, so a task may wait (spin_pause) for lower-numbered tasks of the same call to finish: they have all started.
void parallel_for(int n_tasks, const std::function<void(int)>& fn);

// One iteration of a spin-wait: tells the CPU the loop is waiting (x86 `pause`), where there is a way to.
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

}  // namespace cairn

#include "parallel.h"

#include <algorithm>
#include <cstdlib>
#if CAIRN_THREADS
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace cairn {

#if !CAIRN_THREADS

int num_threads() { return 1; }
void set_num_threads(int) {}
void parallel_for(int n_tasks, const std::function<void(int)>& fn) {
    for (int i = 0; i < n_tasks; ++i) fn(i);
}

#else

namespace {

// Natively the default is 1 thread: a process gets threads only when asked ($CAIRN_THREADS, set_num_threads, the
// CLI), so tests and benchmarks keep their single-thread baselines and a shared machine is not oversubscribed.
int default_threads() {
    if (const char* s = std::getenv("CAIRN_THREADS")) {
        int n = std::atoi(s);
        if (n > 0) return n;
    }
    return 1;
}

// In wasm a std::thread is one of the module's pre-spawned web workers (-sPTHREAD_POOL_SIZE): a thread asked
// for beyond them would start only after the caller returns to the event loop, and parallel_for would wait for
// it forever. So the pool never holds more than that many workers (CAIRN_MAX_THREADS = pool size + 1).
#ifndef CAIRN_MAX_THREADS
#define CAIRN_MAX_THREADS 64
#endif

thread_local bool t_inside = false;  // on a pool worker, or in a task: nested calls run serially

// A training step issues its split kernels back to back, and a sleeping thread takes tens of microseconds to wake
// (far more when the CPU it ran on went idle in a VM): so both sides spin this long before they sleep. Without it
// the calling thread claims nearly every task before a worker is even awake.
constexpr auto kSpin = std::chrono::microseconds(200);

template <class Ready>
bool spin_until(Ready&& ready) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0;; ++i) {
        if (ready()) return true;
        if ((i & 255) == 255 && std::chrono::steady_clock::now() - t0 > kSpin) return false;
        spin_pause();
    }
}

// A call's tasks are claimed one by one from `work`, one 64-bit word holding the call's generation, its task count
// and the next task index. A worker that wakes late can then never claim a task of a call that has moved on (its
// compare-exchange names the generation it saw), and the caller waits for the tasks it handed out, not for every
// worker: a worker the OS has not scheduled yet (another process on its core) costs the call nothing unless it
// holds a task. Workers are only ever added (never joined until exit): a joined wasm worker goes back to its pool
// only when the main thread next returns to the event loop, so shrinking and growing again could not get it back
// in time.
constexpr int kTaskBits = 16;  // a call's task count and next index; the remaining 32 bits are its generation
constexpr uint64_t kTaskMask = (uint64_t(1) << kTaskBits) - 1;
constexpr int kMaxTasks = int(kTaskMask);

uint64_t work_word(uint64_t generation, int n_tasks) { return generation << (2 * kTaskBits) | uint64_t(n_tasks) << kTaskBits; }
uint64_t generation_of(uint64_t w) { return w >> (2 * kTaskBits); }
int tasks_of(uint64_t w) { return int(w >> kTaskBits & kTaskMask); }
int next_of(uint64_t w) { return int(w & kTaskMask); }

struct Pool {
    std::mutex mu;  // only for sleeping and waking; the tasks themselves are claimed lock-free
    std::condition_variable wake, done;
    std::vector<std::thread> workers;
    const std::function<void(int)>* fn = nullptr;  // written before `work` publishes the call, read after a claim
    std::atomic<uint64_t> work{0};
    std::atomic<int> finished{0};  // tasks of the current call that have returned
    int active = 1;
    std::atomic<bool> stop{false};

    // Claims and runs tasks of `generation` until none is left.
    void run_tasks(uint64_t generation) {
        uint64_t w = work.load(std::memory_order_acquire);
        while (generation_of(w) == generation && next_of(w) < tasks_of(w)) {
            if (!work.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel)) continue;
            (*fn)(next_of(w));
            if (finished.fetch_add(1, std::memory_order_acq_rel) + 1 == tasks_of(w)) {
                std::lock_guard g(mu);
                done.notify_all();
            }
            w = work.load(std::memory_order_acquire);
        }
    }
    // Waits for a call newer than `seen`, runs its tasks with the others and returns; false once the pool stops.
    // Out of line so that a worker runs optimized code: its own loop never returns, and V8 keeps a wasm function
    // that has not returned in its baseline tier's code (no on-stack replacement for wasm), so anything inlined
    // into that loop (the spin, the task claims) would run unoptimized for the life of the thread.
    [[gnu::noinline]] bool serve_call(int index, uint64_t& seen) {
        auto news = [&] { return stop || generation_of(work.load(std::memory_order_acquire)) != seen; };
        if (!spin_until(news)) {
            std::unique_lock lock(mu);
            wake.wait(lock, news);
        }
        if (stop) return false;
        seen = generation_of(work.load(std::memory_order_acquire));
        if (index < active - 1) run_tasks(seen);  // else idle at this pool size
        return true;
    }
    void worker(int index) {
        t_inside = true;
        uint64_t seen = 0;
        while (serve_call(index, seen)) {}
    }
    // Runs one call's tasks on the calling thread and whichever workers join in; returns when all have returned.
    void run(int n_tasks, const std::function<void(int)>& f) {
        const uint64_t generation = generation_of(work.load()) + 1;
        {
            std::lock_guard g(mu);  // a worker between its last check and its wait must not miss the wake-up
            fn = &f;
            finished.store(0, std::memory_order_relaxed);
            work.store(work_word(generation, n_tasks), std::memory_order_release);
        }
        wake.notify_all();
        run_tasks(generation);
        auto all_done = [&] { return finished.load(std::memory_order_acquire) == n_tasks; };
        if (!spin_until(all_done)) {
            std::unique_lock lock(mu);
            done.wait(lock, all_done);
        }
    }
    void resize(int n) {
        std::lock_guard g(mu);
        while (int(workers.size()) < n - 1) {
            const int index = int(workers.size());
            workers.emplace_back([this, index] { worker(index); });
        }
        active = n;
    }
    ~Pool() {
        { std::lock_guard g(mu); stop = true; }
        wake.notify_all();
        for (auto& t : workers) t.join();
    }
};

Pool& pool() { static Pool p; return p; }

std::atomic<int> g_threads{0};            // 0 = not yet initialised
std::mutex g_call_mu;            // one parallel_for at a time

}  // namespace

int num_threads() {
    if (g_threads == 0) set_num_threads(0);
    return g_threads;
}

void set_num_threads(int n) {
    std::lock_guard g(g_call_mu);
    int want = std::min(n > 0 ? n : default_threads(), CAIRN_MAX_THREADS);
    g_threads = want;
    pool().resize(want);
}

void parallel_for(int n_tasks, const std::function<void(int)>& fn) {
    if (n_tasks <= 0) return;
    if (n_tasks == 1 || t_inside || num_threads() == 1) {
        for (int i = 0; i < n_tasks; ++i) fn(i);
        return;
    }
    std::lock_guard call(g_call_mu);
    // A call of more tasks than one work word counts runs as consecutive calls.
    for (int base = 0; base < n_tasks; base += kMaxTasks) {
        const int count = std::min(kMaxTasks, n_tasks - base);
        t_inside = true;
        pool().run(count, [&](int i) { fn(base + i); });
        t_inside = false;
    }
}

#endif

}  // namespace cairn

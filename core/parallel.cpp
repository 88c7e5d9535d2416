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
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

// Workers wait for a new generation; each of the first `active - 1` claims task indices from an atomic counter.
// Workers are only ever added (never joined until exit): a joined wasm worker goes back to its pool only when
// the main thread next returns to the event loop, so shrinking and growing again could not get it back in time.
// generation and busy change under `mu` (or are followed by a notify under it), so no wake-up is lost.
struct Pool {
    std::mutex mu;
    std::condition_variable wake, done;
    std::vector<std::thread> workers;
    const std::function<void(int)>* fn = nullptr;
    int n_tasks = 0, active = 1;
    std::atomic<long> generation{0};
    std::atomic<int> busy{0}, next{0};
    std::atomic<bool> stop{false};

    void run_tasks() {
        for (int i; (i = next.fetch_add(1)) < n_tasks;) (*fn)(i);
    }
    void worker(int index) {
        t_inside = true;
        long seen = 0;
        for (;;) {
            if (!spin_until([&] { return stop || generation != seen; })) {
                std::unique_lock lock(mu);
                wake.wait(lock, [&] { return stop || generation != seen; });
            }
            if (stop) return;
            seen = generation;
            if (index >= active - 1) continue;  // idle at this pool size
            run_tasks();
            if (busy.fetch_sub(1) == 1) {
                std::lock_guard g(mu);
                done.notify_all();
            }
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
    Pool& p = pool();
    {
        std::lock_guard g(p.mu);
        p.fn = &fn;
        p.n_tasks = n_tasks;
        p.next = 0;
        p.busy = p.active - 1;
        ++p.generation;
    }
    p.wake.notify_all();
    t_inside = true;
    p.run_tasks();
    t_inside = false;
    if (!spin_until([&] { return p.busy == 0; })) {
        std::unique_lock lock(p.mu);
        p.done.wait(lock, [&] { return p.busy == 0; });
    }
}

#endif

}  // namespace cairn

#include "parallel.h"

#include <cstdlib>
#if CAIRN_THREADS
#include <atomic>
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

int default_threads() {
    if (const char* s = std::getenv("CAIRN_THREADS")) {
        int n = std::atoi(s);
        if (n > 0) return n;
    }
    unsigned hc = std::thread::hardware_concurrency();
    return hc > 0 ? int(hc) : 1;
}

// Workers wait for a new generation; each claims task indices from an atomic counter.
struct Pool {
    std::mutex mu;
    std::condition_variable wake, done;
    std::vector<std::thread> workers;
    const std::function<void(int)>* fn = nullptr;
    int n_tasks = 0, busy = 0;
    long generation = 0;
    bool stop = false;
    std::atomic<int> next{0};

    void run_tasks() {
        for (int i; (i = next.fetch_add(1)) < n_tasks;) (*fn)(i);
    }
    void worker() {
        long seen = 0;
        std::unique_lock lock(mu);
        for (;;) {
            wake.wait(lock, [&] { return stop || generation != seen; });
            if (stop) return;
            seen = generation;
            lock.unlock();
            run_tasks();
            lock.lock();
            if (--busy == 0) done.notify_all();
        }
    }
    void resize(int n) {
        shutdown();
        stop = false;
        for (int i = 1; i < n; ++i) workers.emplace_back([this] { worker(); });
    }
    void shutdown() {
        { std::lock_guard g(mu); stop = true; }
        wake.notify_all();
        for (auto& t : workers) t.join();
        workers.clear();
    }
    ~Pool() { shutdown(); }
};

Pool& pool() { static Pool p; return p; }
std::atomic<int> g_threads{0};            // 0 = not yet initialised
thread_local bool t_inside = false;
std::mutex g_call_mu;            // one parallel_for at a time

}  // namespace

int num_threads() {
    if (g_threads == 0) set_num_threads(0);
    return g_threads;
}

void set_num_threads(int n) {
    std::lock_guard g(g_call_mu);
    int want = n > 0 ? n : default_threads();
    if (want == g_threads) return;
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
        p.busy = int(p.workers.size());
        ++p.generation;
    }
    p.wake.notify_all();
    t_inside = true;
    p.run_tasks();
    t_inside = false;
    std::unique_lock lock(p.mu);
    p.done.wait(lock, [&] { return p.busy == 0; });
}

#endif

}  // namespace cairn

// GEMM throughput (GFLOP/s) of the kernel backends on the shapes an MLP on Fashion-MNIST runs (MxKxN):
// 64x784x256 and 256x784x256 (batch x input x hidden), 64x256x128, and 1x784x256 (single-sample inference).
//
// Prints one "RESULT <target> <shape> <backend> <gflops>" line per measurement for tests/bench/gemm.sh, then a
// readable table. Each figure is the median of several repetitions; a repetition times as many calls as fit in
// ~40 ms, after a warm-up that also lets V8 tier the wasm code up from Liftoff to TurboFan (every gemm call
// re-enters the hot functions, so they switch to optimized code; run with --no-liftoff to skip the baseline).
//
// Backends: reference, simd (always); natively also xnnpack (the table entry, which creates and deletes an
// XNNPACK operator per call, i.e. packs the weights every time) and xnnpack-prepacked (one fully connected
// operator created once and run repeatedly, single-threaded: the fair peer for inference).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/kernels.h"
#include "core/kernels/simd/gemm.h"
#include "tests/bench/peak.h"
#if CAIRN_HAS_XNNPACK
#include <xnnpack.h>
#endif
#if CAIRN_WASM
#include <emscripten.h>
#endif

using namespace cairn;

namespace {

struct Shape { int64_t m, k, n; };

// 64-byte aligned, as cairn::Tensor storage is (and as XNNPACK aligns its packed weights).
struct Buffer {
    std::vector<float> raw;
    float* p;
    explicit Buffer(size_t n) : raw(n + 16) {
        p = raw.data() + ((64 - reinterpret_cast<uintptr_t>(raw.data()) % 64) % 64) / sizeof(float);
    }
    float* data() { return p; }
};

bool g_cpu_time = false;  // --cpu-time: CPU time instead of wall time (for tuning on a busy machine)

#if CAIRN_WASM
// Node's process CPU time (user + system), in seconds.
EM_JS(double, node_cpu_seconds, (), {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
});
#endif

float g_peak_sink;  // keeps the peak loop's results observable

double now_s() {
#if CAIRN_WASM
    if (g_cpu_time) return node_cpu_seconds();
#else
    if (g_cpu_time) {
        timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return ts.tv_sec + 1e-9 * ts.tv_nsec;
    }
#endif
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Runner {
    std::string name;
    std::function<void()> run;
    int calls = 1;
    std::vector<double> rates;
};

// Calibrates each runner to ~40 ms per repetition, then times the repetitions round-robin so every backend sees
// the same machine load (the machine is shared), and keeps the median GFLOP/s of each.
void measure(std::vector<Runner>& runners, double flops, int reps, double warmup_s) {
    for (Runner& r : runners) {
        for (double t0 = now_s(); now_s() - t0 < warmup_s;) r.run();
        for (;;) {
            double t0 = now_s();
            for (int i = 0; i < r.calls; ++i) r.run();
            double dt = now_s() - t0;
            if (dt > 0.03 || r.calls > (1 << 20)) break;
            r.calls = std::max(r.calls * 2, int(r.calls * 0.04 / std::max(dt, 1e-6)));
        }
    }
    for (int rep = 0; rep < reps; ++rep)
        for (Runner& r : runners) {
            if (r.name == "reference" && rep >= 3) continue;  // ~1 GFLOP/s: three repetitions say enough
            double t0 = now_s();
            for (int i = 0; i < r.calls; ++i) r.run();
            r.rates.push_back(flops * r.calls / (now_s() - t0) / 1e9);
        }
    for (Runner& r : runners) {
        std::nth_element(r.rates.begin(), r.rates.begin() + r.rates.size() / 2, r.rates.end());
        r.rates[0] = r.rates[r.rates.size() / 2];
    }
}

}  // namespace

int main(int argc, char** argv) {
    int reps = 9;
    double warmup = 0.3;
    std::string only;  // comma-separated backend names, empty = all
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
        else if (a == "--warmup" && i + 1 < argc) warmup = std::atof(argv[++i]);
        else if (a == "--cpu-time") g_cpu_time = true;
        else if (a == "--backends" && i + 1 < argc) only = std::string(",") + argv[++i] + ",";
        else {
            std::fprintf(stderr, "usage: bench_gemm [--reps N] [--warmup SECONDS] [--backends a,b] [--cpu-time]\n");
            return 2;
        }
    }
    auto wanted = [&](const std::string& b) { return only.empty() || only.find("," + b + ",") != std::string::npos; };
    const char* target = CAIRN_WASM ? "wasm" : "native";
    const simd::GemmConfig& cfg = simd::gemm_config();
    std::printf("# bench_gemm %s, simd microkernel %s, C = A*B (row-major, no bias), %d reps, median"
                " (kc %lld, mc %lld, nc %lld)\n", target, cfg.name, reps, (long long)cfg.kc, (long long)cfg.mc,
                (long long)cfg.nc);

#if CAIRN_HAS_XNNPACK
    if (xnn_initialize(nullptr) != xnn_status_success) {
        std::fprintf(stderr, "xnn_initialize failed\n");
        return 1;
    }
#endif
#if CAIRN_WASM
    {  // the ceiling of the wasm column: SIMD128 has no FMA, so this is what any wasm GEMM can at best approach
        // Warm up as long as the GEMMs do, so V8's background compile has replaced the baseline code.
        for (double t0 = now_s(); now_s() - t0 < std::max(warmup, 1.0);) simd128_muladd_peak_flops(now_s, g_peak_sink);
        double peak = 0;
        for (int i = 0; i < 10; ++i) peak = std::max(peak, simd128_muladd_peak_flops(now_s, g_peak_sink));
        std::printf("PEAK wasm simd128-muladd %.2f\n", peak / 1e9);
    }
#endif
    const Shape shapes[] = {{64, 784, 256}, {256, 784, 256}, {64, 256, 128}, {1, 784, 256}};
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1, 1);
    for (const Shape& s : shapes) {
        Buffer a(s.m * s.k), b(s.k * s.n), c(s.m * s.n);
        for (int64_t i = 0; i < s.m * s.k; ++i) a.data()[i] = dist(rng);
        for (int64_t i = 0; i < s.k * s.n; ++i) b.data()[i] = dist(rng);
        const double flops = 2.0 * s.m * s.k * s.n;
        char shape[64];
        std::snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)s.m, (long long)s.k, (long long)s.n);
        auto report = [&](const char* backend, double gf) {
            std::printf("RESULT %s %s %s %.2f\n", target, shape, backend, gf);
            std::fflush(stdout);
        };
        GemmArgs g;
        g.m = s.m; g.n = s.n; g.k = s.k;
        g.a = a.data(); g.lda = s.k; g.b = b.data(); g.ldb = s.n; g.c = c.data(); g.ldc = s.n;
        std::vector<Runner> runners;
        for (const Kernels* kt : available_kernels())
            if (wanted(kt->name)) runners.push_back({kt->name, [&g, kt] { kt->gemm(g); }});
#if CAIRN_HAS_XNNPACK
        xnn_operator_t op = nullptr;
        if (wanted("xnnpack-prepacked")) {
            if (xnn_create_fully_connected_nc_f32(s.k, s.n, s.k, s.n, b.data(), nullptr, -INFINITY, INFINITY,
                                                  XNN_FLAG_TRANSPOSE_WEIGHTS, &op) != xnn_status_success ||
                xnn_setup_fully_connected_nc_f32(op, s.m, a.data(), c.data(), nullptr) != xnn_status_success) {
                std::fprintf(stderr, "XNNPACK fully connected setup failed\n");
                return 1;
            }
            runners.push_back({"xnnpack-prepacked", [op] { xnn_run_operator(op, nullptr); }});
        }
#endif
        measure(runners, flops, reps, warmup);
        for (const Runner& r : runners) report(r.name.c_str(), r.rates[0]);
#if CAIRN_HAS_XNNPACK
        if (op) xnn_delete_operator(op);
#endif
    }
    return 0;
}

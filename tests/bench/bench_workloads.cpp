// Cairn's side of the workload comparison (tests/bench/run.sh): the same work as workloads.mjs spec() and the peers.
//   W1 train  MLP 784-256-128-10 (ReLU), softmax cross-entropy, Adam 1e-3, batch 64, one epoch of Fashion-MNIST
//   W2 infer  the same MLP forward: batch-1 latency and batch-256 throughput
//   W3 train  Conv3x3(16,same)+ReLU+MaxPool2, Conv3x3(32,same)+ReLU+MaxPool2, Flatten, Dense 10; batch 64
//   GEMM      roofline: a measured SIMD mul+add peak and the kernel table's GEMM 64x784x256 in the same binary
//
// Natively main() drives everything and prints `RESULT {json}`:
//   bench_workloads [--threads N] [--workloads W1,W2,W3,GEMM] [--quick] [--data DIR]
// In wasm the same code is exported as small C functions (cb_*) that workloads.mjs calls once per step, in Node
// and in the page: a hot loop inside one long wasm call would stay in V8's baseline tier (see TOOLCHAIN.md).
// The plain wasm executable (NODERAWFS) also runs main(), but is subject to that trap: use the runner.
//
// Index of this file
// [SECTION] State and models
// [SECTION] Steps (the exported API)
// [SECTION] Roofline
// [SECTION] The machine's two cores
// [SECTION] Native driver
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

// The training engine and the IDX loader land separately; until both are in, this program only says so.
#if __has_include("core/train.h") && __has_include("core/data.h")
#include "core/data.h"
#include "core/error.h"
#include "core/kernels.h"
#include "core/model.h"
#include "core/parallel.h"
#include "core/train.h"
#include "tests/bench/peak.h"

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#define CB_EXPORT extern "C" EMSCRIPTEN_KEEPALIVE
#else
#define CB_EXPORT extern "C"
#endif

using namespace cairn;

namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

//-----------------------------------------------------------------------------
// [SECTION] State and models
//-----------------------------------------------------------------------------

const char* kMlp = R"({"input": [784], "layers": [
    {"type": "dense", "units": 256, "activation": "relu"},
    {"type": "dense", "units": 128, "activation": "relu"},
    {"type": "dense", "units": 10}], "loss": "cross_entropy"})";
const char* kCnn = R"({"input": [28, 28, 1], "layers": [
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d"},
    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d"}, {"type": "flatten"}, {"type": "dense", "units": 10}], "loss": "cross_entropy"})";

struct State {
    Dataset all;    // Fashion-MNIST train, [n, 28, 28, 1] in [0, 1]
    Dataset part;   // the current training workload's samples, shaped for its model
    std::unique_ptr<Model> model;
    std::unique_ptr<Trainer> trainer;
    std::unique_ptr<Model> infer;
    Tensor x1, x256;
    float sink = 0;
    int threads = 1;
};
State& S() {
    static State s;
    return s;
}

// The first n samples, flattened to [n, 784] for the MLP (a view: no copy).
Dataset first(const Dataset& d, int64_t n, bool flat) {
    Dataset r;
    r.name = d.name;
    r.schema = d.schema;
    r.features = d.features.slice(0, 0, n);
    if (flat) {
        r.features = r.features.reshape({n, 784});
        r.schema.image_h = r.schema.image_w = r.schema.image_c = 0;
    }
    r.labels.assign(d.labels.begin(), d.labels.begin() + n);
    return r;
}

// X·W of W1's first layer, or of a part of its columns: C[64 x n] = A[64 x 784] B[784 x n], on operands of its own.
struct FirstLayerProduct {
    int64_t n;
    std::vector<float> a, b, c;
    explicit FirstLayerProduct(int64_t n) : n(n), a(64 * 784, 0.5f), b(784 * n, 0.25f), c(64 * n) {}
    void run() {
        GemmArgs g;
        g.m = 64; g.n = n; g.k = 784;
        g.a = a.data(); g.lda = 784;
        g.b = b.data(); g.ldb = n;
        g.c = c.data(); g.ldc = n;
        kernels().gemm(g);
    }
};

// The Adam update of all of W1's model (235,146 parameters, 3.8 MB of arrays), on arrays of its own.
struct ModelUpdate {
    std::vector<float> w, g, m, v;
    ModelUpdate() : w(235146, 0.1f), g(235146, 0.01f), m(235146), v(235146) {}
    void run() { kernels().adam_update(w.data(), g.data(), m.data(), v.data(), int64_t(w.size()), 1e-3f, 0.9f, 0.999f, 1e-8f, 0.f); }
};

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Steps (the exported API)
//-----------------------------------------------------------------------------

// images / labels: the IDX files' bytes (gzip or not); n: how many samples to keep. Returns 0 or prints why not.
CB_EXPORT int cb_load(const uint8_t* images, int images_len, const uint8_t* labels, int labels_len, int n) {
    try {
        IdxDesc desc;
        desc.limit = n;
        S().all = load_idx(ByteSpan(images, size_t(images_len)), "train-images", ByteSpan(labels, size_t(labels_len)),
                           "train-labels", desc);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cb_load: %s\n", e.what());
        return 1;
    }
}

// Sets the kernels' thread pool (core/parallel.h); returns the number of threads actually used (1 in a wasm build
// without -pthread, at most CAIRN_MAX_THREADS in the threaded one).
CB_EXPORT int cb_threads(int requested) {
    set_num_threads(requested);
    S().threads = num_threads();
    return S().threads;
}

// A fresh model (seed 1) and trainer over the first `samples` samples: workload 1 = MLP, 3 = CNN. No shuffling,
// like the peers, so every engine sees the same batches.
CB_EXPORT int cb_train_begin(int workload, int batch, float lr, int samples) {
    State& s = S();
    s.trainer.reset();
    s.model = std::make_unique<Model>(Model::from_json(Json::parse(workload == 1 ? kMlp : kCnn), 1));
    s.part = first(s.all, samples, workload == 1);
    TrainDesc d;
    d.epochs = 1;
    d.batch_size = batch;
    d.seed = 1;
    d.no_shuffle = true;
    d.optimizer.type = "adam";
    d.optimizer.lr = lr;
    s.trainer = std::make_unique<Trainer>(*s.model, s.part, d);
    return 0;
}

// One batch; returns 1 while the epoch has more.
CB_EXPORT int cb_train_step() {
    Trainer& t = *S().trainer;
    return t.step() && !t.done() ? 1 : 0;
}

CB_EXPORT double cb_train_accuracy() {
    return evaluate(*S().model, S().part).accuracy;
}

CB_EXPORT int cb_infer_begin() {
    State& s = S();
    s.infer = std::make_unique<Model>(Model::from_json(Json::parse(kMlp), 1));
    const Tensor flat = s.all.features.reshape({s.all.size(), 784});
    s.x1 = flat.slice(0, 0, 1).clone();
    s.x256 = flat.slice(0, 0, 256).clone();
    return 0;
}

// One forward pass of batch 1 or 256; the logits are read like a caller would.
CB_EXPORT int cb_infer(int batch) {
    State& s = S();
    Tensor y = s.infer->forward(batch == 1 ? s.x1 : s.x256, false);
    s.sink += y.data()[0];
    return 0;
}

//-----------------------------------------------------------------------------
// [SECTION] Roofline
//-----------------------------------------------------------------------------

// The roofline's ceiling (tests/bench/peak.h), exported so the driver calls it many times and V8 tiers it up.
CB_EXPORT double cb_peak_flops() {
    float sink = 0;
    const double peak = simd128_muladd_peak_flops(now_s, sink);
    S().sink += sink;
    return peak;
}

// The W1 first-layer forward shape through the active kernel table: C[64x256] = A[64x784] B[784x256].
CB_EXPORT double cb_gemm_flops() {
    static FirstLayerProduct product(256);
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const double t0 = now_s();
        product.run();
        best = std::max(best, 2.0 * 64 * 784 * 256 / (now_s() - t0));
    }
    S().sink += product.c[0];
    return best;
}

// Where a W1 step's time goes, measured piece by piece with the step's own shapes (PROFILE.md): ops 0-7 are the
// step's GEMMs through the kernel table, 8 the Adam update of all 235,146 parameters, 9 one whole Trainer step.
// W2 at batch 1 likewise: ops 10-12 are its three layers' products (m = 1), 13 one whole Model::forward.
// Returns the best of 5 in microseconds; cb_train_begin(1, ...) must have run for op 9, cb_infer_begin for op 13.
CB_EXPORT double cb_step_part_us(int op) {
    struct Shape { int64_t m, n, k; bool ta, tb, bias_relu; };
    static const Shape shapes[13] = {
        {64, 256, 784, false, false, true}, {64, 128, 256, false, false, true}, {64, 10, 128, false, false, false},
        {784, 256, 64, true, false, false}, {256, 128, 64, true, false, false}, {128, 10, 64, true, false, false},
        {64, 128, 10, false, true, false}, {64, 256, 128, false, true, false}, {}, {},
        {1, 256, 784, false, false, true}, {1, 128, 256, false, false, true}, {1, 10, 128, false, false, false}};
    static std::vector<float> a(784 * 256, 0.5f), b(784 * 256, 0.25f), c(784 * 256), bias(784, 0.1f);
    static ModelUpdate update;
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
        const double t0 = now_s();
        if (op < 8 || (op >= 10 && op < 13)) {
            const Shape& s = shapes[op];
            GemmArgs x;
            x.m = s.m; x.n = s.n; x.k = s.k;
            x.a = a.data(); x.lda = s.ta ? s.m : s.k; x.trans_a = s.ta;
            x.b = b.data(); x.ldb = s.tb ? s.k : s.n; x.trans_b = s.tb;
            x.c = c.data(); x.ldc = s.n;
            x.bias = s.bias_relu ? bias.data() : nullptr; x.relu = s.bias_relu;
            kernels().gemm(x);
        } else if (op == 8) {
            update.run();
        } else if (op == 9) {
            if (!cb_train_step()) cb_train_begin(1, 64, 1e-3f, int(S().all.size()));
        } else {
            cb_infer(1);
        }
        best = std::min(best, (now_s() - t0) * 1e6);
    }
    S().sink += c[0] + update.w[0];
    return best;
}

//-----------------------------------------------------------------------------
// [SECTION] The machine's two cores
//-----------------------------------------------------------------------------

// What a second core adds on this machine, for work that shares nothing (tests/bench/cores.mjs, PROFILE.md): on a
// shared VM, W1's 2-thread / 1-thread ratio can only be judged against what the same two cores give to independent
// work in the same minute. Probes, each on its own operands:
//   0, 1  the SIMD128 mul+add loop on this thread alone / on each of two threads at once: FLOP/s (summed)
//   2, 3  the product 64x128x784 (half of W1's first layer) alone / one per thread at once: µs
//   4     the whole 64x256x784 product through the kernel table at the current thread count: µs
//   5, 6  the Adam update of 235,146 parameters (W1's model: 3.8 MB of arrays, more than a core's L2, like the
//         update in a training step) alone / one per thread at once, each on its own arrays: µs
// The caller sets the thread count: 1 for probes 0, 2 and 5 (a product would otherwise split), 2 for 1, 3 and 6 (one
// task per thread; a kernel inside a task runs serially), either for 4.
CB_EXPORT double cb_cores_probe(int probe) {
    static FirstLayerProduct half[2] = {FirstLayerProduct(128), FirstLayerProduct(128)}, whole(256);
    static ModelUpdate update[2];
    double flops[2] = {0, 0};
    float sink[2] = {0, 0};
    const double t0 = now_s();
    switch (probe) {
    case 0: flops[0] = simd128_muladd_peak_flops(now_s, sink[0]); break;
    case 1: parallel_for(2, [&](int t) { flops[t] = simd128_muladd_peak_flops(now_s, sink[t]); }); break;
    case 2: half[0].run(); break;
    case 3: parallel_for(2, [&](int t) { half[t].run(); }); break;
    case 4: whole.run(); break;
    case 5: update[0].run(); break;
    case 6: parallel_for(2, [&](int t) { update[t].run(); }); break;
    default: return -1;
    }
    const double us = (now_s() - t0) * 1e6;
    S().sink += sink[0] + sink[1] + half[0].c[0] + half[1].c[0] + whole.c[0] + update[0].w[0] + update[1].w[0];
    return probe < 2 ? flops[0] + flops[1] : us;
}

//-----------------------------------------------------------------------------
// [SECTION] Native driver
//-----------------------------------------------------------------------------

#if !defined(CAIRN_BENCH_DRIVEN)
namespace {

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("io", "cannot open " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// The same counts as spec() in workloads.mjs.
struct TrainSpec { int batch; float lr; int samples, warmup_steps; };

double unix_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string train_json(int workload, const TrainSpec& sp) {
    cb_train_begin(workload, sp.batch, sp.lr, sp.warmup_steps * sp.batch);
    while (cb_train_step()) {}
    cb_train_begin(workload, sp.batch, sp.lr, sp.samples);
    const double w0 = unix_ms(), t0 = now_s();
    while (cb_train_step()) {}
    const double sec = now_s() - t0;
    char buf[256];
    // window_ms: the epoch in Unix ms, for the runner's share of stolen vCPU time (tests/bench/steal.mjs).
    int len = std::snprintf(buf, sizeof buf, "{\"samples_per_s\":%.1f,\"seconds\":%.4f,\"window_ms\":[%.1f,%.1f]",
                            sp.samples / sec, sec, w0, w0 + sec * 1000);
    if (workload == 1) len += std::snprintf(buf + len, sizeof buf - len, ",\"train_accuracy\":%.5f", cb_train_accuracy());
    std::snprintf(buf + len, sizeof buf - len, "}");
    return buf;
}

std::string infer_json(bool quick) {
    const int groups = quick ? 50 : 250, group = 50, warmup = quick ? 50 : 300;
    const int big_calls = quick ? 20 : 100, big_warmup = quick ? 3 : 20;
    cb_infer_begin();
    for (int i = 0; i < warmup; ++i) cb_infer(1);
    std::vector<double> per;
    for (int g = 0; g < groups; ++g) {
        const double t0 = now_s();
        for (int i = 0; i < group; ++i) cb_infer(1);
        per.push_back((now_s() - t0) * 1e6 / group);
    }
    std::nth_element(per.begin(), per.begin() + per.size() / 2, per.end());
    for (int i = 0; i < big_warmup; ++i) cb_infer(256);
    const double t0 = now_s();
    for (int i = 0; i < big_calls; ++i) cb_infer(256);
    char buf[160];
    std::snprintf(buf, sizeof buf, "{\"b1_us\":%.3f,\"b256_samples_per_s\":%.1f}", per[per.size() / 2],
                  256.0 * big_calls / (now_s() - t0));
    return buf;
}

std::string gemm_json() {
    double p = 0, g = 0;
    for (int i = 0; i < 10; ++i) { p = std::max(p, cb_peak_flops()); g = std::max(g, cb_gemm_flops()); }
    char buf[160];
    std::snprintf(buf, sizeof buf, "{\"peak_gflops\":%.2f,\"gemm_gflops\":%.2f,\"fraction\":%.4f}", p / 1e9, g / 1e9, g / p);
    return buf;
}

std::string step_json() {
    cb_train_begin(1, 64, 1e-3f, int(S().all.size()));
    std::string out = "{";
    for (int op = 0; op < 10; ++op) {
        for (int i = 0; i < 5; ++i) cb_step_part_us(op);
        double best = 1e30;
        for (int i = 0; i < 10; ++i) best = std::min(best, cb_step_part_us(op));
        out += (op ? ",\"" : "\"") + std::to_string(op) + "\":{\"us\":" + std::to_string(best) + "}";
    }
    return out + "}";
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1;
    bool quick = false;
    std::string workloads = "W1,W2,W3", dir = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (a == "--workloads" && i + 1 < argc) workloads = argv[++i];
        else if (a == "--data" && i + 1 < argc) dir = argv[++i];
        else if (a == "--quick") quick = true;
        else {
            std::fprintf(stderr, "usage: bench_workloads [--threads N] [--workloads W1,W2,W3,GEMM,STEP] [--quick] [--data DIR]\n");
            return 2;
        }
    }
    try {
        const auto img = read_file(dir + "/train-images-idx3-ubyte.gz"), lbl = read_file(dir + "/train-labels-idx1-ubyte.gz");
        if (cb_load(img.data(), int(img.size()), lbl.data(), int(lbl.size()), quick ? 10000 : 60000) != 0) return 1;
        const int used = cb_threads(threads);
        std::string out = "{\"info\":{\"threads\":" + std::to_string(used) + ",\"kernels\":\"" + kernels().name + "\"}";
        auto has = [&](const char* w) { return ("," + workloads + ",").find(std::string(",") + w + ",") != std::string::npos; };
        if (used != threads) {
            // A run that cannot honour the thread count is an error, not a single-thread figure under a 2t label.
            out += ",\"error\":\"this build runs " + std::to_string(used) + " thread(s) (asked for " + std::to_string(threads) + ")\"}";
            std::printf("RESULT %s\n", out.c_str());
            return 0;
        }
        if (has("W1")) out += ",\"W1\":" + train_json(1, {64, 1e-3f, quick ? 6400 : 60000, quick ? 5 : 300});
        if (has("W2")) out += ",\"W2\":" + infer_json(quick);
        if (has("W3")) out += ",\"W3\":" + train_json(3, {64, 1e-3f, quick ? 640 : 10000, 2});
        if (has("GEMM")) out += ",\"GEMM\":" + gemm_json();
        if (has("STEP")) out += ",\"STEP\":" + step_json();
        std::printf("RESULT %s}\n", out.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_workloads: %s\n", e.what());
        return 1;
    }
    return 0;
}
#endif  // !CAIRN_BENCH_DRIVEN

#else
int main() {
    std::printf("bench_workloads: needs core/train.h and core/data.h (training engine and IDX loader)\n");
    return 0;
}
#endif

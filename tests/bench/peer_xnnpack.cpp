// Peer for W2 natively: Debian's XNNPACK (2022 operator API) running the MLP 784-256-128-10 forward pass as three
// fully connected operators (ReLU as the output clamp), on a pthreadpool of --threads threads. Operators are
// created once (weight packing is not timed), as an inference engine would. Prints `RESULT {json}`.
//   peer_xnnpack --threads N [--quick]
#include <xnnpack.h>
#include <pthreadpool.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

namespace {

double now_us() {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<float> glorot(size_t rows, size_t cols, uint32_t seed) {
    std::vector<float> w(rows * cols);
    const float lim = std::sqrt(6.0f / float(rows + cols));
    for (auto& v : w) { seed = seed * 1664525u + 1013904223u; v = (float(seed) / 4294967296.0f * 2 - 1) * lim; }
    return w;
}

void check(xnn_status s, const char* what) {
    if (s != xnn_status_success) { std::fprintf(stderr, "peer_xnnpack: %s failed (status %d)\n", what, int(s)); std::exit(1); }
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1;
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--quick")) quick = true;
        else { std::fprintf(stderr, "usage: peer_xnnpack --threads N [--quick]\n"); return 2; }
    }
    // Same counts as spec().w2 in workloads.mjs.
    const int groups = quick ? 50 : 250, group = 50, warmup = quick ? 50 : 300;
    const int big = 256, big_calls = quick ? 20 : 100, big_warmup = quick ? 3 : 20;

    check(xnn_initialize(nullptr), "xnn_initialize");
    pthreadpool_t pool = threads > 1 ? pthreadpool_create(size_t(threads)) : nullptr;
    const size_t dims[4] = {784, 256, 128, 10};
    std::vector<float> w[3], b[3];
    xnn_operator_t op[3] = {};
    const float inf = std::numeric_limits<float>::infinity();
    for (int l = 0; l < 3; ++l) {
        w[l] = glorot(dims[l], dims[l + 1], uint32_t(l + 1));  // [in, out]: XNNPACK reads it with TRANSPOSE_WEIGHTS
        b[l].assign(dims[l + 1], 0.0f);
        check(xnn_create_fully_connected_nc_f32(dims[l], dims[l + 1], dims[l], dims[l + 1], w[l].data(), b[l].data(),
                                                l < 2 ? 0.0f : -inf, inf, XNN_FLAG_TRANSPOSE_WEIGHTS, &op[l]),
              "xnn_create_fully_connected_nc_f32");
    }
    std::vector<float> x(size_t(big) * 784), h1(size_t(big) * 256), h2(size_t(big) * 128), y(size_t(big) * 10);
    uint32_t s = 7;
    for (auto& v : x) { s = s * 1664525u + 1013904223u; v = float(s >> 8) / float(1 << 24); }

    // Setup binds batch size and pointers; a framework does it per call, so it is timed.
    auto forward = [&](size_t n) {
        check(xnn_setup_fully_connected_nc_f32(op[0], n, x.data(), h1.data(), pool), "setup");
        check(xnn_setup_fully_connected_nc_f32(op[1], n, h1.data(), h2.data(), pool), "setup");
        check(xnn_setup_fully_connected_nc_f32(op[2], n, h2.data(), y.data(), pool), "setup");
        for (auto* o : op) check(xnn_run_operator(o, pool), "xnn_run_operator");
    };
    for (int i = 0; i < warmup; ++i) forward(1);
    std::vector<double> per;
    for (int g = 0; g < groups; ++g) {
        const double t0 = now_us();
        for (int i = 0; i < group; ++i) forward(1);
        per.push_back((now_us() - t0) / group);
    }
    std::nth_element(per.begin(), per.begin() + per.size() / 2, per.end());
    const double b1 = per[per.size() / 2];
    for (int i = 0; i < big_warmup; ++i) forward(big);
    const double t0 = now_us();
    for (int i = 0; i < big_calls; ++i) forward(big);
    const double sps = double(big) * big_calls / ((now_us() - t0) / 1e6);

    std::printf("RESULT {\"info\":{\"threads\":%d},\"W2\":{\"b1_us\":%.3f,\"b256_samples_per_s\":%.1f}}\n", threads, b1, sps);
    for (auto* o : op) xnn_delete_operator(o);
    if (pool) pthreadpool_destroy(pool);
    return 0;
}

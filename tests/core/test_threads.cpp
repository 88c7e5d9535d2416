// Threaded kernels (core/parallel.h): the simd GEMM splits C over M/N panels only, never over K, so its output
// must be bit-identical (memcmp) for 1, 2 and 3 threads, and still match the reference backend within the
// GEMM tolerance of test_kernels.cpp. Training on top of it must then be bit-identical too.
// Natively and in the plain wasm build these run the threaded code path (natively with real threads; serially
// in wasm without -pthread); cairn_core_tests_mt runs them in wasm with real web-worker threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/kernels.h"
#include "core/model.h"
#include "core/parallel.h"
#include "core/random.h"
#include "core/train.h"
#include "tests/core/test_util.h"

using namespace cairn;
using namespace cairn::test;

namespace {

// Restores the default pool size however a test ends.
struct ThreadsGuard {
    ~ThreadsGuard() { set_num_threads(0); }
};

struct Case {
    int64_t m, n, k;
    int form;  // 0: A·B, 1: A·Bᵀ, 2: Aᵀ·B
    bool bias, acc, relu;
    int64_t pad;
    bool zero_runs = false;  // op(A) with runs of zeros (test_util.h): packed panels then list their nonzero steps
};

// C from the simd GEMM with `threads` threads, padding included (so writes into it are caught too).
std::vector<float> simd_gemm(const Case& gc, int threads, std::vector<float>* ref = nullptr) {
    const bool ta = gc.form == 2, tb = gc.form == 1;
    const int64_t lda = (ta ? gc.m : gc.k) + gc.pad, ldb = (tb ? gc.k : gc.n) + gc.pad, ldc = gc.n + gc.pad;
    auto a = random_vec((ta ? gc.k : gc.m) * lda, 1 + uint32_t(gc.m));
    if (gc.zero_runs) zero_runs_in(a, gc.m, gc.k, lda, ta);
    const auto b = random_vec((tb ? gc.n : gc.k) * ldb, 2 + uint32_t(gc.n));
    const auto bias = random_vec(gc.n, 3);
    std::vector<float> c = random_vec(gc.m * ldc, 4);
    GemmArgs g;
    g.m = gc.m; g.n = gc.n; g.k = gc.k;
    g.a = a.data(); g.lda = lda; g.trans_a = ta;
    g.b = b.data(); g.ldb = ldb; g.trans_b = tb;
    g.ldc = ldc; g.bias = gc.bias ? bias.data() : nullptr; g.accumulate = gc.acc; g.relu = gc.relu;
    if (ref) {
        *ref = c;
        g.c = ref->data();
        reference_kernels().gemm(g);
        // Tolerance as in test_kernels.cpp: gamma_(k+2) times the sum of absolute products (+ |C|, |bias|).
        const auto c0 = c;
        set_num_threads(threads);
        g.c = c.data();
        find_kernels("simd")->gemm(g);
        for (int64_t i = 0; i < gc.m; ++i)
            for (int64_t j = 0; j < gc.n; ++j) {
                double mag = 0;
                for (int64_t p = 0; p < gc.k; ++p)
                    mag += std::fabs(double(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]));
                if (gc.acc) mag += std::fabs(c0[i * ldc + j]);
                if (gc.bias) mag += std::fabs(bias[j]);
                EXPECT_NEAR(c[i * ldc + j], (*ref)[i * ldc + j], gamma_k(gc.k + 2) * mag + 1e-30)
                    << "m=" << gc.m << " n=" << gc.n << " k=" << gc.k << " form " << gc.form << " at " << i << "," << j;
            }
        return c;
    }
    set_num_threads(threads);
    g.c = c.data();
    find_kernels("simd")->gemm(g);
    return c;
}

}  // namespace

// Shapes big enough to be split (m*n*k above the serial threshold), with ragged last panels in M and in N,
// K larger than one cache block, and every form with and without bias, accumulate and ReLU.
TEST(Threads, GemmBitIdenticalForAnyThreadCountAndMatchesReference) {
    ThreadsGuard guard;
    const Case shapes[] = {
        {67, 301, 129, 0, false, false, false, 0}, {301, 67, 129, 0, false, false, false, 3},
        {133, 131, 1031, 0, false, false, false, 0}, {5, 997, 263, 0, false, false, false, 1},
        {997, 7, 263, 0, false, false, false, 0}, {64, 256, 784, 0, false, false, false, 0},
        // Just above the threading threshold (64 k multiply-adds), with a partial last column panel: a training
        // step's output layer (64x10x128), and its transposed forms through `form`.
        {64, 10, 128, 0, false, false, false, 1, true},
        // N wider than one cache block (nc = 1024) with several K blocks: a row cut reads a B packed ahead of it
        // in parts by all threads (Aᵀ·B), whose offsets span N blocks and whose parts split no panel.
        {40, 1030, 300, 0, false, false, false, 2},
        // A with runs of zeros, cut into columns: where A is packed (always for Aᵀ, for A in wasm), it is packed
        // once ahead of the cut, in parts, with each panel's nonzero steps, and every column block reads the copy
        // at offsets that span several row blocks (mc) and K blocks. 6 rows give 3 threads too few row panels, so
        // Aᵀ·B is cut into columns.
        {200, 300, 600, 0, false, false, false, 0, true}, {64, 256, 784, 0, false, false, false, 0, true},
        {6, 500, 300, 0, false, false, false, 1, true},
    };
    int checked = 0;
    for (Case base : shapes)
        for (int form = 0; form < 3; ++form)
            for (int variant = 0; variant < 3; ++variant) {
                Case gc = base;
                gc.form = form;
                gc.bias = variant >= 1;
                gc.relu = variant == 1;
                gc.acc = variant == 2;
                std::vector<float> ref;
                const std::vector<float> one = simd_gemm(gc, 1, checked++ % 4 == 0 ? &ref : nullptr);
                for (int t : {2, 3}) {
                    const std::vector<float> many = simd_gemm(gc, t);
                    ASSERT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)), 0)
                        << "m=" << gc.m << " n=" << gc.n << " k=" << gc.k << " form " << form << " variant "
                        << variant << ": " << t << " threads differ from 1";
                }
            }
}

// Elementwise kernels on arrays large enough to be split (core/kernels/simd/kernels_simd.cpp, vmap): Adam and an
// activation with an odd length, bit-identical for 1, 2 and 3 threads.
TEST(Threads, ElementwiseBitIdenticalForAnyThreadCount) {
    ThreadsGuard guard;
    const Kernels& k = *find_kernels("simd");
    const int64_t n = 200003;
    const auto x = random_vec(n, 7), g = random_vec(n, 8);
    auto run = [&](int threads) {
        set_num_threads(threads);
        std::vector<float> w = x, m(n, 0.1f), v(n, 0.2f), y(n);
        for (int step = 0; step < 3; ++step) k.adam_update(w.data(), g.data(), m.data(), v.data(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f);
        k.act_forward(Act::gelu, 0, x.data(), y.data(), n);
        w.insert(w.end(), m.begin(), m.end());
        w.insert(w.end(), v.begin(), v.end());
        w.insert(w.end(), y.begin(), y.end());
        return w;
    };
    const std::vector<float> one = run(1);
    for (int t : {2, 3}) {
        const std::vector<float> many = run(t);
        EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)), 0) << t << " threads differ from 1";
    }
}

// A few Adam steps of a small MLP whose GEMMs are large enough to be split: bit-identical weights with 1 and
// 2 threads (and 3, an odd split).
TEST(Threads, TrainingBitIdenticalWithOneAndTwoThreads) {
    ThreadsGuard guard;
    const int64_t n = 512, dims = 96;
    Dataset d;
    d.name = "blobs";
    d.features = Tensor::empty({n, dims});
    d.labels.resize(n);
    d.schema.class_names = {"a", "b", "c"};
    Rng rng(3);
    for (int64_t i = 0; i < n; ++i) {
        d.labels[i] = int32_t(i % 3);
        for (int64_t j = 0; j < dims; ++j) d.features.data()[i * dims + j] = (j % 3 == i % 3 ? 1.f : 0.f) + rng.normal();
    }
    const Json arch = {{"input", {dims}},
                       {"layers", {{{"type", "dense"}, {"units", 256}, {"activation", "relu"}},
                                   {{"type", "dense"}, {"units", 128}, {"activation", "relu"}},
                                   {{"type", "dense"}, {"units", 3}, {"activation", "softmax"}}}}};
    auto train = [&](int threads) {
        set_num_threads(threads);
        Model m = Model::from_json(arch, 21);
        TrainDesc t;
        t.epochs = 2;
        t.batch_size = 128;
        t.seed = 21;
        t.optimizer.type = "adam";
        Trainer tr(m, d, t);
        tr.run();
        std::vector<float> w;
        for (Param* p : m.params()) w.insert(w.end(), p->value.data(), p->value.data() + p->value.numel());
        return w;
    };
    const std::string before = kernels().name;
    set_kernels("simd");
    const std::vector<float> one = train(1), two = train(2), three = train(3);
    ASSERT_EQ(one.size(), two.size());
    EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0) << "2 threads differ from 1";
    EXPECT_EQ(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)), 0) << "3 threads differ from 1";
    const std::vector<float> init = [&] { Model m = Model::from_json(arch, 21); std::vector<float> w;
        for (Param* p : m.params()) w.insert(w.end(), p->value.data(), p->value.data() + p->value.numel()); return w; }();
    EXPECT_NE(one, init) << "training did not move the weights";
    set_kernels(before);
}

// The threaded wasm build uses Emscripten's JS exceptions because wasm exceptions with -pthread skip every typed
// catch in 3.1.6: a cairn::Error must reach `catch (const Error&)` in every build.
TEST(Threads, TypedCatchReachesCairnError) {
    std::string code;
    try {
        fail("invalid_argument", "threads: a test error");
    } catch (const Error& e) {
        code = e.code();
    } catch (...) {
        code = "caught by catch (...)";
    }
    EXPECT_EQ(code, "invalid_argument");
}

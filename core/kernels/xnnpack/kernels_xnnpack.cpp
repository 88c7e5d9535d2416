// The xnnpack backend (native only): Debian's libXNNPACK (2022 operator API) for the ops it has, the simd table
// for everything else (transpose, reductions, tanh/GELU, backward passes, Adam, ...).
//
// Operators are created, run single-threaded and deleted per call. Creation packs the weights, which is the
// expensive part of a fully connected or convolution operator: right for correctness and for a backend that
// must accept different weights every training step, wasteful for frozen inference (where a caller would keep
// the operator; tests/bench/bench_gemm.cpp measures that case as "xnnpack-prepacked").
//
// Index of this file
// [SECTION] Operator helpers
// [SECTION] GEMM and convolution
// [SECTION] Elementwise, activations, softmax
// [SECTION] Table
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/kernels.h"

namespace cairn {
namespace {

//-----------------------------------------------------------------------------
// [SECTION] Operator helpers
//-----------------------------------------------------------------------------

void check(xnn_status st, const char* what) {
    if (st != xnn_status_success) fail("xnnpack", std::string(what) + " failed (xnn_status " + std::to_string(st) + ")");
}

void init_once() {
    static std::once_flag once;
    std::call_once(once, [] { check(xnn_initialize(nullptr), "xnn_initialize"); });
}

// Owns one operator for the duration of a call; runs it on the calling thread (no thread pool).
struct Op {
    xnn_operator_t op = nullptr;
    Op() { init_once(); }
    ~Op() {
        if (op) xnn_delete_operator(op);
    }
    void run(const char* what) { check(xnn_run_operator(op, nullptr), what); }
};

const Kernels& simd() { return simd_kernels(); }

//-----------------------------------------------------------------------------
// [SECTION] GEMM and convolution
//-----------------------------------------------------------------------------

// XNNPACK's fully connected operator is C = A·W (+bias), clamped: A·B with XNN_FLAG_TRANSPOSE_WEIGHTS
// (W stored k x n) or A·Bᵀ without it (W stored n x k, its native layout). ReLU is NOT XNNPACK's clamp [0, inf):
// the clamp turns NaN into 0, and Cairn's ReLU lets NaN through so a diverging model is noticed.
// Aᵀ, accumulation into C and weights with a row stride go to the simd GEMM.
void gemm(const GemmArgs& g) {
    const bool dense_b = g.ldb == (g.trans_b ? g.k : g.n);
    if (g.trans_a || g.accumulate || !dense_b || g.m <= 0 || g.n <= 0 || g.k <= 0) return simd().gemm(g);
    Op o;
    check(xnn_create_fully_connected_nc_f32(g.k, g.n, g.lda, g.ldc, g.b, g.bias, -INFINITY, INFINITY,
                                            g.trans_b ? 0 : XNN_FLAG_TRANSPOSE_WEIGHTS, &o.op),
          "xnn_create_fully_connected_nc_f32");
    check(xnn_setup_fully_connected_nc_f32(o.op, g.m, g.a, g.c, nullptr), "xnn_setup_fully_connected_nc_f32");
    o.run("fully connected");
    if (g.relu)
        for (int64_t i = 0; i < g.m; ++i) simd().act_forward(Act::relu, 0, g.c + i * g.ldc, g.c + i * g.ldc, g.n);
}

// NHWC convolution. XNNPACK wants OHWI weights, ours are HWIO ([patch x out_c]): one transpose per call.
// The bottom/right padding is whatever makes XNNPACK's output size equal ours (it may be negative for a
// "valid" convolution whose last rows are not covered; then no padding and XNNPACK's floor drops them too).
void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, bool relu, float* y,
                    float* work) {
    if (s.pixels() == 0 || s.out_c == 0) return;
    const int64_t pad_bottom = std::max<int64_t>(0, (s.out_h - 1) * s.stride_h + s.kernel_h - s.in_h - s.pad_top);
    const int64_t pad_right = std::max<int64_t>(0, (s.out_w - 1) * s.stride_w + s.kernel_w - s.in_w - s.pad_left);
    std::vector<float> ohwi(s.patch() * s.out_c);
    simd().transpose(w, s.out_c, ohwi.data(), s.patch(), s.patch(), s.out_c);
    Op o;
    check(xnn_create_convolution2d_nhwc_f32(
              (uint32_t)s.pad_top, (uint32_t)pad_right, (uint32_t)pad_bottom, (uint32_t)s.pad_left,
              (uint32_t)s.kernel_h, (uint32_t)s.kernel_w, (uint32_t)s.stride_h, (uint32_t)s.stride_w, 1, 1, 1, s.in_c,
              s.out_c, s.in_c, s.out_c, ohwi.data(), bias, -INFINITY, INFINITY, 0, &o.op),
          "xnn_create_convolution2d_nhwc_f32");
    check(xnn_setup_convolution2d_nhwc_f32(o.op, s.batch, s.in_h, s.in_w, x, y, nullptr),
          "xnn_setup_convolution2d_nhwc_f32");
    o.run("convolution");
    if (relu) simd().act_forward(Act::relu, 0, y, y, s.pixels() * s.out_c);  // NaN-preserving, as in gemm
}

//-----------------------------------------------------------------------------
// [SECTION] Elementwise, activations, softmax
//-----------------------------------------------------------------------------

template <class Create, class Setup>
void binary(Create create, Setup setup, const float* a, const float* b, float* y, int64_t n, const char* what) {
    if (n <= 0) return;
    Op o;
    check(create(-INFINITY, INFINITY, 0, &o.op), what);
    const size_t shape[1] = {(size_t)n};
    check(setup(o.op, 1, shape, 1, shape, a, b, y, nullptr), what);
    o.run(what);
}

void add(const float* a, const float* b, float* y, int64_t n) {
    binary(xnn_create_add_nd_f32, xnn_setup_add_nd_f32, a, b, y, n, "add");
}
void mul(const float* a, const float* b, float* y, int64_t n) {
    binary(xnn_create_multiply_nd_f32, xnn_setup_multiply_nd_f32, a, b, y, n, "multiply");
}

// Sigmoid from XNNPACK over n elements as an n x 1 batch; the other activations from simd (ReLU too: see gemm).
void act_forward(Act a, float alpha, const float* x, float* y, int64_t n) {
    if (a != Act::sigmoid || n <= 0) return simd().act_forward(a, alpha, x, y, n);
    Op o;
    check(xnn_create_sigmoid_nc_f32(1, 1, 1, 0, &o.op), "xnn_create_sigmoid_nc_f32");
    check(xnn_setup_sigmoid_nc_f32(o.op, n, x, y, nullptr), "xnn_setup_sigmoid_nc_f32");
    o.run(act_name(a));
}

void softmax_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return;
    Op o;
    check(xnn_create_softmax_nc_f32(cols, ldx, ldy, 0, &o.op), "xnn_create_softmax_nc_f32");
    check(xnn_setup_softmax_nc_f32(o.op, rows, x, y, nullptr), "xnn_setup_softmax_nc_f32");
    o.run("softmax");
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Table
//-----------------------------------------------------------------------------

const Kernels& xnnpack_kernels() {
    static const Kernels k = [] {
        Kernels t = simd_kernels();
        t.name = "xnnpack";
        t.gemm = gemm;
        t.add = add;
        t.mul = mul;
        t.act_forward = act_forward;
        t.softmax_rows = softmax_rows;
        t.conv2d_forward = conv2d_forward;
        // Convolution gradients: im2col compositions over this table's gemm (A·Bᵀ goes to XNNPACK, Aᵀ·B to simd).
        t.conv2d_backward_data = [](const Conv2dShape& s, const float* dy, const float* w, float* dx, float* work) {
            conv2d_backward_data_im2col(xnnpack_kernels(), s, dy, w, dx, work);
        };
        t.conv2d_backward_filter = [](const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db,
                                      float* work) {
            conv2d_backward_filter_im2col(xnnpack_kernels(), s, x, dy, dw, db, work);
        };
        return t;
    }();
    return k;
}

}  // namespace cairn

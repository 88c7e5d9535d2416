#include "core/ops.h"

#include <algorithm>
#include <climits>
#include <string>

#include "core/error.h"

namespace cairn::ops {

static void need_f32(const Tensor& t, const char* what) {
    if (!t.defined()) fail("invalid_argument", std::string(what) + ": tensor is empty");
    if (t.dtype() != DType::f32) fail("dtype_mismatch", std::string(what) + ": expected f32, got " + dtype_name(t.dtype()));
}

static void need_contiguous(const Tensor& t, const char* what) {
    need_f32(t, what);
    if (!t.is_contiguous())
        fail("shape_invalid", std::string(what) + ": needs a contiguous tensor, got a strided view of " +
                                  shape_str(t.shape()) + "; call contiguous() first");
}

static void need_rank(const Tensor& t, int rank, const char* what) {
    if (t.rank() != rank)
        fail("shape_invalid", std::string(what) + ": expected a " + std::to_string(rank) + "-D tensor, got shape " +
                                  shape_str(t.shape()));
}

//-----------------------------------------------------------------------------
// [SECTION] Matrix products
//-----------------------------------------------------------------------------

static void gemm_dims(const Tensor& a, const Tensor& b, const MatmulDesc& d, int64_t& m, int64_t& n, int64_t& k) {
    need_f32(a, "matmul A");
    need_f32(b, "matmul B");
    need_rank(a, 2, "matmul A");
    need_rank(b, 2, "matmul B");
    m = d.trans_a ? a.dim(1) : a.dim(0);
    k = d.trans_a ? a.dim(0) : a.dim(1);
    int64_t kb = d.trans_b ? b.dim(1) : b.dim(0);
    n = d.trans_b ? b.dim(0) : b.dim(1);
    if (k != kb)
        fail("shape_mismatch", "matmul: inner dimensions differ: A" + std::string(d.trans_a ? "ᵀ " : " ") +
                                   shape_str(a.shape()) + " · B" + (d.trans_b ? "ᵀ " : " ") + shape_str(b.shape()));
    if (d.bias) {
        need_contiguous(*d.bias, "matmul bias");
        if (d.bias->numel() != n)
            fail("shape_mismatch", "matmul: bias has " + std::to_string(d.bias->numel()) + " elements, expected " +
                                       std::to_string(n));
    }
}

void matmul_into(Tensor& c, const Tensor& a, const Tensor& b, const MatmulDesc& d) {
    int64_t m, n, k;
    gemm_dims(a, b, d, m, n, k);
    need_f32(c, "matmul C");
    check_shape(c, {m, n}, "matmul output");
    if (m == 0 || n == 0) return;
    GemmArgs g;
    g.m = m; g.n = n; g.k = k;
    g.a = a.data(); g.lda = a.ld(); g.trans_a = d.trans_a;
    g.b = b.data(); g.ldb = b.ld(); g.trans_b = d.trans_b;
    g.c = c.data(); g.ldc = c.ld();
    g.bias = d.bias ? d.bias->data() : nullptr;
    g.relu = d.relu;
    g.accumulate = d.accumulate;
    kernels().gemm(g);
}

Tensor matmul(const Tensor& a, const Tensor& b, const MatmulDesc& d) {
    int64_t m, n, k;
    gemm_dims(a, b, d, m, n, k);
    Tensor c = Tensor::empty({m, n});
    MatmulDesc dd = d;
    dd.accumulate = false;
    matmul_into(c, a, b, dd);
    return c;
}

//-----------------------------------------------------------------------------
// [SECTION] Elementwise and activations
//-----------------------------------------------------------------------------

static void binary_check(const Tensor& a, const Tensor& b, const char* what) {
    need_contiguous(a, what);
    need_contiguous(b, what);
    check_same_shape(a, b, what);
}

Tensor add(const Tensor& a, const Tensor& b) {
    binary_check(a, b, "add");
    Tensor y = Tensor::empty(a.shape());
    kernels().add(a.data(), b.data(), y.data(), a.numel());
    return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
    binary_check(a, b, "mul");
    Tensor y = Tensor::empty(a.shape());
    kernels().mul(a.data(), b.data(), y.data(), a.numel());
    return y;
}

Tensor scale(const Tensor& x, float s) {
    need_contiguous(x, "scale");
    Tensor y = Tensor::empty(x.shape());
    kernels().scale(x.data(), s, y.data(), x.numel());
    return y;
}

void scale_(Tensor& x, float s) {
    need_contiguous(x, "scale_");
    kernels().scale(x.data(), s, x.data(), x.numel());
}

void axpy(float alpha, const Tensor& x, Tensor& y) {
    binary_check(x, y, "axpy");
    kernels().axpy(alpha, x.data(), y.data(), x.numel());
}

template <class F>
static void for_each_row(Tensor& x, const Tensor& v, const char* what, F&& f) {
    need_contiguous(x, what);
    need_contiguous(v, what);
    int64_t c = v.numel();
    if (x.rank() == 0 || x.dim(-1) != c)
        fail("shape_mismatch", std::string(what) + ": last axis of " + shape_str(x.shape()) + " must have " +
                                   std::to_string(c) + " elements");
    float* p = x.data();
    for (int64_t r = 0, rows = x.numel() / c; r < rows; ++r) f(p + r * c, v.data(), c);
}

void mul_rows_(Tensor& x, const Tensor& v) {
    for_each_row(x, v, "mul_rows", [](float* row, const float* v, int64_t c) { kernels().mul(row, v, row, c); });
}

void add_rows_(Tensor& x, const Tensor& v) {
    for_each_row(x, v, "add_rows", [](float* row, const float* v, int64_t c) { kernels().add(row, v, row, c); });
}

double dot(const Tensor& a, const Tensor& b) {
    binary_check(a, b, "dot");
    return kernels().dot(a.data(), b.data(), a.numel());
}

double sum_squares(const Tensor& x) { return dot(x, x); }

Tensor activation(Act act, float alpha, const Tensor& x) {
    need_contiguous(x, "activation");
    Tensor y = Tensor::empty(x.shape());
    kernels().act_forward(act, alpha, x.data(), y.data(), x.numel());
    return y;
}

Tensor activation_backward(Act act, float alpha, const Tensor& x, const Tensor& y, const Tensor& dy) {
    binary_check(x, dy, "activation_backward");
    binary_check(y, dy, "activation_backward");
    Tensor dx = Tensor::empty(x.shape());
    kernels().act_backward(act, alpha, x.data(), y.data(), dy.data(), dx.data(), x.numel());
    return dx;
}

//-----------------------------------------------------------------------------
// [SECTION] Softmax and reductions
//-----------------------------------------------------------------------------

Tensor softmax(const Tensor& x) {
    need_f32(x, "softmax");
    need_rank(x, 2, "softmax");
    Tensor y = Tensor::empty(x.shape());
    kernels().softmax_rows(x.data(), x.ld(), y.data(), y.ld(), x.dim(0), x.dim(1));
    return y;
}

Tensor log_softmax(const Tensor& x) {
    need_f32(x, "log_softmax");
    need_rank(x, 2, "log_softmax");
    Tensor y = Tensor::empty(x.shape());
    kernels().log_softmax_rows(x.data(), x.ld(), y.data(), y.ld(), x.dim(0), x.dim(1));
    return y;
}

Tensor sum_rows(const Tensor& x) {
    need_f32(x, "sum_rows");
    need_rank(x, 2, "sum_rows");
    Tensor y = Tensor::empty({x.dim(1)});
    kernels().sum_over_rows(x.data(), x.ld(), x.dim(0), x.dim(1), y.data());
    return y;
}

Tensor sum_cols(const Tensor& x) {
    need_f32(x, "sum_cols");
    need_rank(x, 2, "sum_cols");
    Tensor y = Tensor::empty({x.dim(0)});
    kernels().sum_over_cols(x.data(), x.ld(), x.dim(0), x.dim(1), y.data());
    return y;
}

//-----------------------------------------------------------------------------
// [SECTION] Convolution and pooling
//-----------------------------------------------------------------------------

const char* padding_name(Padding p) { return p == Padding::same ? "same" : "valid"; }

Padding1d conv_padding(int64_t in, int64_t kernel, int64_t stride, Padding p) {
    Padding1d r;
    if (p == Padding::valid) {
        r.out = in >= kernel ? (in - kernel) / stride + 1 : 0;
        return r;
    }
    r.out = (in + stride - 1) / stride;
    int64_t total = std::max<int64_t>((r.out - 1) * stride + kernel - in, 0);
    r.before = total / 2;
    return r;
}

Conv2dShape conv2d_shape(const Shape& x, const Shape& w, int64_t stride_h, int64_t stride_w, Padding p) {
    if (x.size() != 4) fail("shape_invalid", "conv2d: input must be NHWC [n, h, w, c], got " + shape_str(x));
    if (w.size() != 4) fail("shape_invalid", "conv2d: weights must be HWIO [kh, kw, in_c, out_c], got " + shape_str(w));
    if (w[2] != x[3])
        fail("shape_mismatch", "conv2d: input " + shape_str(x) + " has " + std::to_string(x[3]) +
                                   " channels but weights " + shape_str(w) + " expect " + std::to_string(w[2]));
    if (stride_h < 1 || stride_w < 1) fail("invalid_argument", "conv2d: strides must be >= 1");
    Conv2dShape s;
    s.batch = x[0]; s.in_h = x[1]; s.in_w = x[2]; s.in_c = x[3];
    s.kernel_h = w[0]; s.kernel_w = w[1]; s.out_c = w[3];
    s.stride_h = stride_h; s.stride_w = stride_w;
    Padding1d ph = conv_padding(s.in_h, s.kernel_h, stride_h, p), pw = conv_padding(s.in_w, s.kernel_w, stride_w, p);
    s.out_h = ph.out; s.out_w = pw.out; s.pad_top = ph.before; s.pad_left = pw.before;
    if (s.out_h <= 0 || s.out_w <= 0)
        fail("shape_invalid", "conv2d: a " + std::to_string(s.kernel_h) + "x" + std::to_string(s.kernel_w) +
                                  " '" + padding_name(p) + "' kernel does not fit input " + shape_str(x));
    return s;
}

static Shape in_shape(const Conv2dShape& s) { return {s.batch, s.in_h, s.in_w, s.in_c}; }
static Shape out_shape(const Conv2dShape& s) { return {s.batch, s.out_h, s.out_w, s.out_c}; }
static Shape w_shape(const Conv2dShape& s) { return {s.kernel_h, s.kernel_w, s.in_c, s.out_c}; }

static Tensor workspace(const Conv2dShape& s) { return Tensor::empty({std::max<int64_t>(conv2d_workspace(s), 1)}); }

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dShape& s, bool relu) {
    need_contiguous(x, "conv2d input");
    need_contiguous(w, "conv2d weights");
    check_shape(x, in_shape(s), "conv2d input");
    check_shape(w, w_shape(s), "conv2d weights");
    if (bias) check_shape(*bias, {s.out_c}, "conv2d bias");
    Tensor y = Tensor::empty(out_shape(s)), work = workspace(s);
    kernels().conv2d_forward(s, x.data(), w.data(), bias ? bias->data() : nullptr, relu, y.data(), work.data());
    return y;
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dShape& s) {
    need_contiguous(dy, "conv2d_backward_data dy");
    need_contiguous(w, "conv2d_backward_data weights");
    check_shape(dy, out_shape(s), "conv2d_backward_data dy");
    check_shape(w, w_shape(s), "conv2d_backward_data weights");
    Tensor dx = Tensor::empty(in_shape(s)), work = workspace(s);
    kernels().conv2d_backward_data(s, dy.data(), w.data(), dx.data(), work.data());
    return dx;
}

void conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Conv2dShape& s, Tensor& dw, Tensor* db) {
    need_contiguous(x, "conv2d_backward_filter input");
    need_contiguous(dy, "conv2d_backward_filter dy");
    need_contiguous(dw, "conv2d_backward_filter dw");
    check_shape(x, in_shape(s), "conv2d_backward_filter input");
    check_shape(dy, out_shape(s), "conv2d_backward_filter dy");
    check_shape(dw, w_shape(s), "conv2d_backward_filter dw");
    if (db) check_shape(*db, {s.out_c}, "conv2d_backward_filter db");
    Tensor work = workspace(s);
    kernels().conv2d_backward_filter(s, x.data(), dy.data(), dw.data(), db ? db->data() : nullptr, work.data());
}

Pooled maxpool2x2(const Tensor& x) {
    need_contiguous(x, "maxpool2x2");
    need_rank(x, 4, "maxpool2x2");
    int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
    if (h < 2 || w < 2) fail("shape_invalid", "maxpool2x2: input " + shape_str(x.shape()) + " is smaller than 2x2");
    if (x.numel() > INT32_MAX) fail("shape_invalid", "maxpool2x2: input too large for 32-bit argmax");
    Pooled p;
    p.y = Tensor::empty({n, h / 2, w / 2, c});
    p.argmax = Tensor::empty({n, h / 2, w / 2, c}, DType::i32);
    kernels().maxpool2x2_forward(x.data(), n, h, w, c, p.y.data(), p.argmax.data<int32_t>());
    return p;
}

Tensor maxpool2x2_backward(const Tensor& dy, const Tensor& argmax, const Shape& x_shape) {
    need_contiguous(dy, "maxpool2x2_backward");
    if (argmax.dtype() != DType::i32 || argmax.shape() != dy.shape())
        fail("shape_mismatch", "maxpool2x2_backward: argmax " + shape_str(argmax.shape()) + " does not match dy " +
                                   shape_str(dy.shape()));
    Tensor dx = Tensor::zeros(x_shape);
    kernels().maxpool2x2_backward(dy.data(), argmax.data<int32_t>(), dy.numel(), dx.data());
    return dx;
}

}  // namespace cairn::ops

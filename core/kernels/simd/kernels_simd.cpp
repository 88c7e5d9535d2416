// The simd backend: every op of the kernel table written once in the vocabulary of simd_mappings.h, so the
// same source runs as wasm SIMD128 and as native AVX-512/AVX2. GEMM lives in f32_gemm.cpp.
//
// Tails shorter than a vector go through a zero-padded stack vector and the very same vector code, so a tail
// element gets exactly the arithmetic of a body element (exact ops stay bit-exact, approximations consistent).
//
// Index of this file
// [SECTION] Helpers
// [SECTION] Elementwise
// [SECTION] Activations
// [SECTION] Softmax
// [SECTION] Reductions and transpose
// [SECTION] im2col / col2im
// [SECTION] Max-pool
// [SECTION] Adam
// [SECTION] Table
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/kernels.h"
#include "core/kernels/simd/gemm.h"
#include "core/kernels/simd/simd_mappings.h"
#include "core/parallel.h"

namespace cairn {
namespace simd {
namespace {

//-----------------------------------------------------------------------------
// [SECTION] Helpers
//-----------------------------------------------------------------------------

// y_j[i] = f(x_0[i], ..., x_{NI-1}[i]) for NO outputs; f takes const vf (&)[NI] and vf (&)[NO].
// Outputs may alias inputs: each vector is read before it is written.
// f is taken by value, and the kernels capture their constants by value ([=]): a run inside a parallel_for task then
// loops over its own copy. With references to the caller's constants, the task's loop ran at about half speed in
// wasm (likely reloading them each vector, as the stores to y might alias them): Adam over 235k parameters took
// 140-150 µs split over 2 threads against 120-170 on 1, and 84-95 µs since.
template <int NI, int NO, class F>
void vmap_serial(const float* const (&in)[NI], float* const (&out)[NO], int64_t n, F f) {
    vf x[NI], y[NO];
    int64_t i = 0;
    for (; i + kVL <= n; i += kVL) {
        for (int j = 0; j < NI; ++j) x[j] = vload(in[j] + i);
        f(x, y);
        for (int j = 0; j < NO; ++j) vstore(out[j] + i, y[j]);
    }
    if (i < n) {
        const int64_t rest = n - i;
        alignas(64) float buf[(NI > NO ? NI : NO)][kVL] = {};
        for (int j = 0; j < NI; ++j) {
            std::memcpy(buf[j], in[j] + i, sizeof(float) * rest);
            x[j] = vload(buf[j]);
        }
        f(x, y);
        for (int j = 0; j < NO; ++j) {
            vstore(buf[j], y[j]);
            std::memcpy(out[j] + i, buf[j], sizeof(float) * rest);
        }
    }
}

// Large arrays (Adam over a weight matrix, activations of a conv layer) are cut into one run per thread
// (core/parallel.h). Runs start at whole vectors and a tail takes the same vector code, so every element gets the
// same arithmetic whatever the thread count (bit-identical). Below the threshold a hand-off would cost more.
constexpr int64_t kParallelMinElems = int64_t(1) << 15;

template <int NI, int NO, class F>
void vmap(const float* const (&in)[NI], float* const (&out)[NO], int64_t n, F f) {
    const int threads = n >= 2 * kParallelMinElems ? num_threads() : 1;
    if (threads == 1) return vmap_serial<NI, NO>(in, out, n, f);
    const int tasks = (int)std::min<int64_t>(threads, n / kParallelMinElems);
    const int64_t vecs = (n + kVL - 1) / kVL;
    parallel_for(tasks, [&](int t) {
        const int64_t lo = vecs * t / tasks * kVL, hi = std::min(n, vecs * (t + 1) / tasks * kVL);
        const float* i2[NI];
        float* o2[NO];
        for (int j = 0; j < NI; ++j) i2[j] = in[j] + lo;
        for (int j = 0; j < NO; ++j) o2[j] = out[j] + lo;
        vmap_serial<NI, NO>(i2, o2, hi - lo, f);
    });
}

//-----------------------------------------------------------------------------
// [SECTION] Elementwise
//-----------------------------------------------------------------------------

void add(const float* a, const float* b, float* y, int64_t n) {
    vmap<2, 1>({a, b}, {y}, n, [](const vf (&x)[2], vf (&r)[1]) { r[0] = vadd(x[0], x[1]); });
}
void mul(const float* a, const float* b, float* y, int64_t n) {
    vmap<2, 1>({a, b}, {y}, n, [](const vf (&x)[2], vf (&r)[1]) { r[0] = vmul(x[0], x[1]); });
}
void scale(const float* x, float s, float* y, int64_t n) {
    const vf vs = vset1(s);
    vmap<1, 1>({x}, {y}, n, [=](const vf (&v)[1], vf (&r)[1]) { r[0] = vmul(vs, v[0]); });
}
void axpy(float alpha, const float* x, float* y, int64_t n) {
    const vf va = vset1(alpha);
    vmap<2, 1>({x, y}, {y}, n, [=](const vf (&v)[2], vf (&r)[1]) { r[0] = vfma(va, v[0], v[1]); });
}

//-----------------------------------------------------------------------------
// [SECTION] Activations
//-----------------------------------------------------------------------------

// GELU (tanh form) as x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): the same function as
// 0.5 x (1 + tanh u), but without the cancellation of 1 + tanh(u) for negative x.
constexpr float kGeluC = 0.7978845608028654f, kGeluA = 0.044715f;

HWY_INLINE vf gelu_2u(vf x) {
    const vf x2 = vmul(x, x);
    return vmul(vset1(2 * kGeluC), vfma(vmul(vset1(kGeluA), x2), x, x));
}

void act_forward(Act a, float alpha, const float* x, float* y, int64_t n) {
    switch (a) {
        case Act::identity:
            if (x != y) std::memmove(y, x, sizeof(float) * n);
            return;
        case Act::relu:
            return vmap<1, 1>({x}, {y}, n, [](const vf (&v)[1], vf (&r)[1]) { r[0] = vrelu(v[0]); });
        case Act::leaky_relu: {
            const vf va = vset1(alpha);
            return vmap<1, 1>({x}, {y}, n, [=](const vf (&v)[1], vf (&r)[1]) {
                r[0] = vselect(vlt(v[0], vzero()), vmul(va, v[0]), v[0]);
            });
        }
        case Act::sigmoid:
            return vmap<1, 1>({x}, {y}, n, [](const vf (&v)[1], vf (&r)[1]) { r[0] = vsigmoid(v[0]); });
        case Act::tanh:
            return vmap<1, 1>({x}, {y}, n, [](const vf (&v)[1], vf (&r)[1]) { r[0] = vtanh(v[0]); });
        case Act::gelu:
            return vmap<1, 1>({x}, {y}, n, [](const vf (&v)[1], vf (&r)[1]) {
                r[0] = vmul(v[0], vsigmoid(gelu_2u(v[0])));
            });
    }
}

// Derivatives from x (y is not needed): sigmoid' = s (1 - s) with 1 - s = e s, e = exp(-x), which stays
// accurate where s is near 1; GELU' = s + 2 x s (1 - s) u'(x) with s = sigmoid(2u).
void act_backward(Act a, float alpha, const float* x, const float*, const float* dy, float* dx, int64_t n) {
    const vf one = vset1(1.0f);
    switch (a) {
        case Act::identity:
            if (dy != dx) std::memmove(dx, dy, sizeof(float) * n);
            return;
        case Act::relu:
            return vmap<2, 1>({x, dy}, {dx}, n, [](const vf (&v)[2], vf (&r)[1]) {
                r[0] = vselect(vgt(v[0], vzero()), v[1], vzero());
            });
        case Act::leaky_relu: {
            const vf va = vset1(alpha);
            return vmap<2, 1>({x, dy}, {dx}, n, [=](const vf (&v)[2], vf (&r)[1]) {
                r[0] = vselect(vgt(v[0], vzero()), v[1], vmul(va, v[1]));
            });
        }
        case Act::sigmoid:
            return vmap<2, 1>({x, dy}, {dx}, n, [=](const vf (&v)[2], vf (&r)[1]) {
                const vf e = vexp(vneg(v[0]));
                const vf s = vdiv(one, vadd(one, e));
                r[0] = vmul(v[1], vmul(s, vmul(e, s)));
            });
        case Act::tanh:
            return vmap<2, 1>({x, dy}, {dx}, n, [=](const vf (&v)[2], vf (&r)[1]) {
                const vf t = vtanh(v[0]);
                r[0] = vmul(v[1], vsub(one, vmul(t, t)));
            });
        case Act::gelu:
            return vmap<2, 1>({x, dy}, {dx}, n, [=](const vf (&v)[2], vf (&r)[1]) {
                const vf xv = v[0], x2 = vmul(xv, xv);
                const vf e = vexp(vneg(gelu_2u(xv)));
                const vf s = vdiv(one, vadd(one, e));
                const vf du = vmul(vset1(kGeluC), vfma(vset1(3 * kGeluA), x2, one));  // u'(x)
                const vf g = vfma(vmul(vadd(xv, xv), vmul(s, vmul(e, s))), du, s);
                r[0] = vmul(v[1], g);
            });
    }
}

//-----------------------------------------------------------------------------
// [SECTION] Softmax
//-----------------------------------------------------------------------------

float row_max(const float* x, int64_t n) {
    vf m = vset1(-INFINITY);
    int64_t i = 0;
    for (; i + kVL <= n; i += kVL) m = vmax(m, vload(x + i));
    alignas(64) float lanes[kVL];
    vstore(lanes, m);
    float r = lanes[0];
    for (int j = 1; j < kVL; ++j) r = std::max(r, lanes[j]);
    for (; i < n; ++i) r = std::max(r, x[i]);
    return r;
}

// sum_i exp(x_i - mx), optionally storing the exponentials. Compensated (Kahan) per lane so the sum is good to
// about one ulp however long the row; exp's own error then dominates.
double sum_exp(const float* x, int64_t n, float mx, float* e_out) {
    const vf vm = vset1(mx);
    vf sum = vzero(), comp = vzero();
    auto step = [&](vf e) {
        const vf yv = vsub(e, comp), t = vadd(sum, yv);
        comp = vsub(vsub(t, sum), yv);
        sum = t;
    };
    int64_t i = 0;
    for (; i + kVL <= n; i += kVL) {
        const vf e = vexp(vsub(vload(x + i), vm));
        if (e_out) vstore(e_out + i, e);
        step(e);
    }
    if (i < n) {  // padding lanes are -inf, whose exp is exactly 0
        alignas(64) float buf[kVL];
        std::fill(buf, buf + kVL, -INFINITY);
        std::memcpy(buf, x + i, sizeof(float) * (n - i));
        const vf e = vexp(vsub(vload(buf), vm));
        vstore(buf, e);
        if (e_out) std::memcpy(e_out + i, buf, sizeof(float) * (n - i));
        step(e);
    }
    return vhsum(sum) - vhsum(comp);
}

void softmax_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * ldx;
        float* yr = y + r * ldy;
        const float sum = static_cast<float>(sum_exp(xr, cols, row_max(xr, cols), yr));
        const vf vs = vset1(sum);
        vmap<1, 1>({yr}, {yr}, cols, [=](const vf (&v)[1], vf (&o)[1]) { o[0] = vdiv(v[0], vs); });
    }
}

void log_softmax_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * ldx;
        const float mx = row_max(xr, cols);
        const vf vm = vset1(mx), vl = vset1(static_cast<float>(std::log(sum_exp(xr, cols, mx, nullptr))));
        vmap<1, 1>({xr}, {y + r * ldy}, cols, [=](const vf (&v)[1], vf (&o)[1]) { o[0] = vsub(vsub(v[0], vm), vl); });
    }
}

//-----------------------------------------------------------------------------
// [SECTION] Reductions and transpose
//-----------------------------------------------------------------------------

// Column sums: vectors run along a row, rows are accumulated; four vectors at a time to hide add latency.
void sum_over_rows(const float* x, int64_t ldx, int64_t rows, int64_t cols, float* out) {
    int64_t c = 0;
    for (; c + 4 * kVL <= cols; c += 4 * kVL) {
        vf s0 = vzero(), s1 = vzero(), s2 = vzero(), s3 = vzero();
        for (int64_t r = 0; r < rows; ++r) {
            const float* p = x + r * ldx + c;
            s0 = vadd(s0, vload(p)); s1 = vadd(s1, vload(p + kVL));
            s2 = vadd(s2, vload(p + 2 * kVL)); s3 = vadd(s3, vload(p + 3 * kVL));
        }
        vstore(out + c, s0); vstore(out + c + kVL, s1); vstore(out + c + 2 * kVL, s2); vstore(out + c + 3 * kVL, s3);
    }
    for (; c + kVL <= cols; c += kVL) {
        vf s = vzero();
        for (int64_t r = 0; r < rows; ++r) s = vadd(s, vload(x + r * ldx + c));
        vstore(out + c, s);
    }
    for (; c < cols; ++c) {
        float s = 0;
        for (int64_t r = 0; r < rows; ++r) s += x[r * ldx + c];
        out[c] = s;
    }
}

// Dot product: four independent vector accumulators (the adds do not wait on each other), flushed into a double
// every kDotBlock elements so the float partial sums stay short whatever n is.
double dot(const float* a, const float* b, int64_t n) {
    constexpr int64_t kDotBlock = 4096;
    double total = 0;
    int64_t i = 0;
    while (i + 4 * kVL <= n) {
        const int64_t end = std::min(n, i + kDotBlock) - 4 * kVL;
        vf s0 = vzero(), s1 = vzero(), s2 = vzero(), s3 = vzero();
        for (; i <= end; i += 4 * kVL) {
            s0 = vfma(vload(a + i), vload(b + i), s0);
            s1 = vfma(vload(a + i + kVL), vload(b + i + kVL), s1);
            s2 = vfma(vload(a + i + 2 * kVL), vload(b + i + 2 * kVL), s2);
            s3 = vfma(vload(a + i + 3 * kVL), vload(b + i + 3 * kVL), s3);
        }
        total += vhsum(vadd(vadd(s0, s1), vadd(s2, s3)));
    }
    for (; i < n; ++i) total += double(a[i]) * b[i];
    return total;
}

// Row sums: lane-parallel partial sums, then the lanes and the tail.
void sum_over_cols(const float* x, int64_t ldx, int64_t rows, int64_t cols, float* out) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* p = x + r * ldx;
        vf s0 = vzero(), s1 = vzero();
        int64_t c = 0;
        for (; c + 2 * kVL <= cols; c += 2 * kVL) {
            s0 = vadd(s0, vload(p + c));
            s1 = vadd(s1, vload(p + c + kVL));
        }
        for (; c + kVL <= cols; c += kVL) s0 = vadd(s0, vload(p + c));
        double s = vhsum(vadd(s0, s1));
        for (; c < cols; ++c) s += p[c];
        out[r] = static_cast<float>(s);
    }
}

// Cache-blocked copy; pure data movement, which the compiler already does well without explicit SIMD.
void transpose(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols) {
    constexpr int64_t B = 32;
    for (int64_t r0 = 0; r0 < rows; r0 += B)
        for (int64_t c0 = 0; c0 < cols; c0 += B) {
            const int64_t r1 = std::min(rows, r0 + B), c1 = std::min(cols, c0 + B);
            for (int64_t r = r0; r < r1; ++r)
                for (int64_t c = c0; c < c1; ++c) y[c * ldy + r] = x[r * ldx + c];
        }
}

//-----------------------------------------------------------------------------
// [SECTION] im2col / col2im
//-----------------------------------------------------------------------------

// NHWC keeps one tap's in_c channels contiguous in both x and the patch, so a tap is one copy (or one
// vector add for col2im); padding taps are zero-filled.
template <class F>
void for_each_tap_run(const Conv2dShape& s, F&& f) {
    const int64_t patch = s.patch();
    int64_t row = 0;
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t oy = 0; oy < s.out_h; ++oy)
            for (int64_t ox = 0; ox < s.out_w; ++ox, ++row)
                for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
                    const int64_t iy = oy * s.stride_h - s.pad_top + ky;
                    for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
                        const int64_t ix = ox * s.stride_w - s.pad_left + kx;
                        const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
                        f(inside ? ((b * s.in_h + iy) * s.in_w + ix) * s.in_c : -1,
                          row * patch + (ky * s.kernel_w + kx) * s.in_c);
                    }
                }
}

void im2col(const Conv2dShape& s, const float* x, float* cols) {
    const size_t bytes = sizeof(float) * s.in_c;
    for_each_tap_run(s, [&](int64_t src, int64_t dst) {
        if (src < 0) std::memset(cols + dst, 0, bytes);
        else std::memcpy(cols + dst, x + src, bytes);
    });
}

void col2im(const Conv2dShape& s, const float* cols, float* dx) {
    for_each_tap_run(s, [&](int64_t src, int64_t dst) {
        if (src >= 0) add(dx + src, cols + dst, dx + src, s.in_c);
    });
}

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, bool relu, float* y,
                    float* work) {
    conv2d_forward_im2col(simd_kernels(), s, x, w, bias, relu, y, work);
}
void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx, float* work) {
    conv2d_backward_data_im2col(simd_kernels(), s, dy, w, dx, work);
}
void conv2d_backward_filter(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db,
                            float* work) {
    conv2d_backward_filter_im2col(simd_kernels(), s, x, dy, dw, db, work);
}

//-----------------------------------------------------------------------------
// [SECTION] Max-pool
//-----------------------------------------------------------------------------

// Channels are contiguous in NHWC, so a vector covers kVL channels of one output pixel; the winner's offset
// is tracked in an integer vector. Strict '>' keeps the first maximum, as the reference and PyTorch do.
void maxpool2x2_forward(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, float* y, int32_t* argmax) {
    const int64_t oh = h / 2, ow = w / 2;
    const vi lane = hn::Iota(DI(), 0);
    int64_t o = 0;
    for (int64_t b = 0; b < n; ++b)
        for (int64_t oy = 0; oy < oh; ++oy)
            for (int64_t ox = 0; ox < ow; ++ox) {
                const int64_t tap[4] = {((b * h + 2 * oy) * w + 2 * ox) * c, ((b * h + 2 * oy) * w + 2 * ox + 1) * c,
                                        ((b * h + 2 * oy + 1) * w + 2 * ox) * c,
                                        ((b * h + 2 * oy + 1) * w + 2 * ox + 1) * c};
                int64_t ch = 0;
                for (; ch + kVL <= c; ch += kVL, o += kVL) {
                    vf best = vload(x + tap[0] + ch);
                    vi idx = hn::Add(lane, hn::Set(DI(), static_cast<int32_t>(tap[0] + ch)));
                    for (int t = 1; t < 4; ++t) {
                        const vf v = vload(x + tap[t] + ch);
                        const vmask gt = vgt(v, best);
                        best = vselect(gt, v, best);
                        idx = hn::IfThenElse(hn::RebindMask(DI(), gt),
                                             hn::Add(lane, hn::Set(DI(), static_cast<int32_t>(tap[t] + ch))), idx);
                    }
                    vstore(y + o, best);
                    hn::StoreU(idx, DI(), argmax + o);
                }
                for (; ch < c; ++ch, ++o) {
                    int64_t bi = tap[0] + ch;
                    for (int t = 1; t < 4; ++t)
                        if (x[tap[t] + ch] > x[bi]) bi = tap[t] + ch;
                    y[o] = x[bi];
                    argmax[o] = static_cast<int32_t>(bi);
                }
            }
}

// A scatter: no SIMD form in SIMD128, and it is a tiny fraction of a CNN step.
void maxpool2x2_backward(const float* dy, const int32_t* argmax, int64_t count, float* dx) {
    for (int64_t i = 0; i < count; ++i) dx[argmax[i]] += dy[i];
}

//-----------------------------------------------------------------------------
// [SECTION] Adam
//-----------------------------------------------------------------------------

void adam_update(float* w, const float* g, float* m, float* v, int64_t n, float lr_t, float beta1, float beta2,
                 float eps, float decoupled_decay) {
    const vf b1 = vset1(beta1), c1 = vset1(1 - beta1), b2 = vset1(beta2), c2 = vset1(1 - beta2);
    const vf lr = vset1(lr_t), ve = vset1(eps), wd = vset1(decoupled_decay);
    vmap<4, 3>({w, g, m, v}, {w, m, v}, n, [=](const vf (&in)[4], vf (&out)[3]) {
        const vf gv = in[1];
        const vf mv = vadd(vmul(b1, in[2]), vmul(c1, gv));
        const vf vv = vadd(vmul(b2, in[3]), vmul(vmul(c2, gv), gv));
        const vf step = vdiv(vmul(lr, mv), vadd(vsqrt(vv), ve));
        out[0] = vsub(in[0], vadd(step, vmul(wd, in[0])));
        out[1] = mv;
        out[2] = vv;
    });
}

}  // namespace
}  // namespace simd

//-----------------------------------------------------------------------------
// [SECTION] Table
//-----------------------------------------------------------------------------

const Kernels& simd_kernels() {
    static const Kernels k = [] {
        Kernels t{};
        t.name = "simd";
        t.gemm = simd::gemm;
        t.add = simd::add;
        t.mul = simd::mul;
        t.scale = simd::scale;
        t.axpy = simd::axpy;
        t.act_forward = simd::act_forward;
        t.act_backward = simd::act_backward;
        t.softmax_rows = simd::softmax_rows;
        t.log_softmax_rows = simd::log_softmax_rows;
        t.sum_over_rows = simd::sum_over_rows;
        t.sum_over_cols = simd::sum_over_cols;
        t.transpose = simd::transpose;
        t.im2col = simd::im2col;
        t.col2im = simd::col2im;
        t.conv2d_forward = simd::conv2d_forward;
        t.conv2d_backward_data = simd::conv2d_backward_data;
        t.conv2d_backward_filter = simd::conv2d_backward_filter;
        t.maxpool2x2_forward = simd::maxpool2x2_forward;
        t.maxpool2x2_backward = simd::maxpool2x2_backward;
        t.adam_update = simd::adam_update;
        t.dot = simd::dot;
        return t;
    }();
    return k;
}

}  // namespace cairn

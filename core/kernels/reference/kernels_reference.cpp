// The reference backend: the plainest correct code, in double precision where accumulation order matters.
// It is the oracle of every kernel test, so clarity beats speed here.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/kernels.h"

namespace cairn {
namespace {

void gemm(const GemmArgs& g) {
    for (int64_t i = 0; i < g.m; ++i) {
        for (int64_t j = 0; j < g.n; ++j) {
            double acc = 0;
            for (int64_t p = 0; p < g.k; ++p) {
                float a = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
                float b = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
                acc += static_cast<double>(a) * b;
            }
            float* c = &g.c[i * g.ldc + j];
            if (g.accumulate) acc += *c;
            if (g.bias) acc += g.bias[j];
            if (g.relu && acc < 0) acc = 0;
            *c = static_cast<float>(acc);
        }
    }
}

void add(const float* a, const float* b, float* y, int64_t n) { for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i]; }
void mul(const float* a, const float* b, float* y, int64_t n) { for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i]; }
void scale(const float* x, float s, float* y, int64_t n) { for (int64_t i = 0; i < n; ++i) y[i] = s * x[i]; }
void axpy(float alpha, const float* x, float* y, int64_t n) { for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i]; }

// GELU, tanh approximation (as PyTorch's approximate="tanh" and TF.js).
constexpr double kGeluC = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kGeluA = 0.044715;

double act(Act a, double alpha, double x) {
    switch (a) {
        case Act::identity: return x;
        case Act::relu: return x < 0 ? 0 : x;  // NaN passes through, as in PyTorch
        case Act::leaky_relu: return x < 0 ? alpha * x : x;
        case Act::sigmoid: return 1 / (1 + std::exp(-x));
        case Act::tanh: return std::tanh(x);
        case Act::gelu: return 0.5 * x * (1 + std::tanh(kGeluC * (x + kGeluA * x * x * x)));
    }
    return x;
}

double act_grad(Act a, double alpha, double x) {
    switch (a) {
        case Act::identity: return 1;
        case Act::relu: return x > 0 ? 1 : 0;
        case Act::leaky_relu: return x > 0 ? 1 : alpha;
        case Act::sigmoid: { double s = 1 / (1 + std::exp(-x)); return s * (1 - s); }
        case Act::tanh: { double t = std::tanh(x); return 1 - t * t; }
        case Act::gelu: {
            double u = kGeluC * (x + kGeluA * x * x * x);
            double t = std::tanh(u);
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * kGeluC * (1 + 3 * kGeluA * x * x);
        }
    }
    return 1;
}

void act_forward(Act a, float alpha, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(act(a, alpha, x[i]));
}

void act_backward(Act a, float alpha, const float* x, const float*, const float* dy, float* dx, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dx[i] = static_cast<float>(dy[i] * act_grad(a, alpha, x[i]));
}

void softmax_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * ldx;
        float* yr = y + r * ldy;
        double mx = *std::max_element(xr, xr + cols), sum = 0;
        for (int64_t c = 0; c < cols; ++c) sum += std::exp(xr[c] - mx);
        for (int64_t c = 0; c < cols; ++c) yr[c] = static_cast<float>(std::exp(xr[c] - mx) / sum);
    }
}

void log_softmax_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * ldx;
        float* yr = y + r * ldy;
        double mx = *std::max_element(xr, xr + cols), sum = 0;
        for (int64_t c = 0; c < cols; ++c) sum += std::exp(xr[c] - mx);
        double lse = mx + std::log(sum);
        for (int64_t c = 0; c < cols; ++c) yr[c] = static_cast<float>(xr[c] - lse);
    }
}

void sum_over_rows(const float* x, int64_t ldx, int64_t rows, int64_t cols, float* out) {
    for (int64_t c = 0; c < cols; ++c) {
        double s = 0;
        for (int64_t r = 0; r < rows; ++r) s += x[r * ldx + c];
        out[c] = static_cast<float>(s);
    }
}

void sum_over_cols(const float* x, int64_t ldx, int64_t rows, int64_t cols, float* out) {
    for (int64_t r = 0; r < rows; ++r) {
        double s = 0;
        for (int64_t c = 0; c < cols; ++c) s += x[r * ldx + c];
        out[r] = static_cast<float>(s);
    }
}

void transpose(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) y[c * ldy + r] = x[r * ldx + c];
}

// Visits every (output pixel, kernel tap) pair with the input offset it reads, or -1 in the padding.
template <class F>
void for_each_tap(const Conv2dShape& s, F&& f) {
    int64_t row = 0;
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t oy = 0; oy < s.out_h; ++oy)
            for (int64_t ox = 0; ox < s.out_w; ++ox, ++row)
                for (int64_t ky = 0; ky < s.kernel_h; ++ky)
                    for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
                        int64_t iy = oy * s.stride_h - s.pad_top + ky, ix = ox * s.stride_w - s.pad_left + kx;
                        bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
                        int64_t src = inside ? ((b * s.in_h + iy) * s.in_w + ix) * s.in_c : -1;
                        int64_t dst = row * s.patch() + (ky * s.kernel_w + kx) * s.in_c;
                        f(src, dst);
                    }
}

void im2col(const Conv2dShape& s, const float* x, float* cols) {
    for_each_tap(s, [&](int64_t src, int64_t dst) {
        for (int64_t c = 0; c < s.in_c; ++c) cols[dst + c] = src < 0 ? 0.f : x[src + c];
    });
}

void col2im(const Conv2dShape& s, const float* cols, float* dx) {
    for_each_tap(s, [&](int64_t src, int64_t dst) {
        if (src >= 0)
            for (int64_t c = 0; c < s.in_c; ++c) dx[src + c] += cols[dst + c];
    });
}

// Direct convolution, independent of im2col, so the im2col path of other backends has a true oracle.
void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, bool relu, float* y,
                    float*) {
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t oy = 0; oy < s.out_h; ++oy)
            for (int64_t ox = 0; ox < s.out_w; ++ox)
                for (int64_t oc = 0; oc < s.out_c; ++oc) {
                    double acc = bias ? bias[oc] : 0;
                    for (int64_t ky = 0; ky < s.kernel_h; ++ky)
                        for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
                            int64_t iy = oy * s.stride_h - s.pad_top + ky, ix = ox * s.stride_w - s.pad_left + kx;
                            if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
                            for (int64_t ic = 0; ic < s.in_c; ++ic)
                                acc += static_cast<double>(x[((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ic]) *
                                       w[((ky * s.kernel_w + kx) * s.in_c + ic) * s.out_c + oc];
                        }
                    if (relu && acc < 0) acc = 0;
                    y[((b * s.out_h + oy) * s.out_w + ox) * s.out_c + oc] = static_cast<float>(acc);
                }
}

void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx, float*) {
    std::vector<double> acc(s.batch * s.in_h * s.in_w * s.in_c, 0.0);
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t oy = 0; oy < s.out_h; ++oy)
            for (int64_t ox = 0; ox < s.out_w; ++ox)
                for (int64_t ky = 0; ky < s.kernel_h; ++ky)
                    for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
                        int64_t iy = oy * s.stride_h - s.pad_top + ky, ix = ox * s.stride_w - s.pad_left + kx;
                        if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
                        for (int64_t ic = 0; ic < s.in_c; ++ic)
                            for (int64_t oc = 0; oc < s.out_c; ++oc)
                                acc[((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ic] +=
                                    static_cast<double>(dy[((b * s.out_h + oy) * s.out_w + ox) * s.out_c + oc]) *
                                    w[((ky * s.kernel_w + kx) * s.in_c + ic) * s.out_c + oc];
                    }
    for (size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<float>(acc[i]);
}

void conv2d_backward_filter(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db, float*) {
    std::vector<double> acc(s.patch() * s.out_c, 0.0), bacc(s.out_c, 0.0);
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t oy = 0; oy < s.out_h; ++oy)
            for (int64_t ox = 0; ox < s.out_w; ++ox) {
                const float* g = dy + ((b * s.out_h + oy) * s.out_w + ox) * s.out_c;
                for (int64_t oc = 0; oc < s.out_c; ++oc) bacc[oc] += g[oc];
                for (int64_t ky = 0; ky < s.kernel_h; ++ky)
                    for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
                        int64_t iy = oy * s.stride_h - s.pad_top + ky, ix = ox * s.stride_w - s.pad_left + kx;
                        if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
                        for (int64_t ic = 0; ic < s.in_c; ++ic)
                            for (int64_t oc = 0; oc < s.out_c; ++oc)
                                acc[((ky * s.kernel_w + kx) * s.in_c + ic) * s.out_c + oc] +=
                                    static_cast<double>(x[((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ic]) * g[oc];
                    }
            }
    for (size_t i = 0; i < acc.size(); ++i) dw[i] = static_cast<float>(acc[i]);
    if (db)
        for (int64_t oc = 0; oc < s.out_c; ++oc) db[oc] = static_cast<float>(bacc[oc]);
}

void maxpool2x2_forward(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, float* y, int32_t* argmax) {
    int64_t oh = h / 2, ow = w / 2, o = 0;
    for (int64_t b = 0; b < n; ++b)
        for (int64_t oy = 0; oy < oh; ++oy)
            for (int64_t ox = 0; ox < ow; ++ox)
                for (int64_t ch = 0; ch < c; ++ch, ++o) {
                    int64_t best = ((b * h + 2 * oy) * w + 2 * ox) * c + ch;
                    for (int64_t dy = 0; dy < 2; ++dy)
                        for (int64_t dx = 0; dx < 2; ++dx) {
                            int64_t i = ((b * h + 2 * oy + dy) * w + 2 * ox + dx) * c + ch;
                            if (x[i] > x[best]) best = i;  // first maximum wins ties, as in PyTorch
                        }
                    y[o] = x[best];
                    argmax[o] = static_cast<int32_t>(best);
                }
}

void maxpool2x2_backward(const float* dy, const int32_t* argmax, int64_t count, float* dx) {
    for (int64_t i = 0; i < count; ++i) dx[argmax[i]] += dy[i];
}

void adam_update(float* w, const float* g, float* m, float* v, int64_t n, float lr_t, float beta1, float beta2,
                 float eps, float decoupled_decay) {
    for (int64_t i = 0; i < n; ++i) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        w[i] -= lr_t * m[i] / (std::sqrt(v[i]) + eps) + decoupled_decay * w[i];
    }
}

double dot(const float* a, const float* b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += double(a[i]) * b[i];
    return s;
}

}  // namespace

const Kernels& reference_kernels() {
    static const Kernels k = {
        "reference",      gemm,          add,     mul,          scale,          axpy,
        act_forward,      act_backward,  softmax_rows, log_softmax_rows, sum_over_rows, sum_over_cols,
        transpose,        im2col,        col2im,  conv2d_forward, conv2d_backward_data, conv2d_backward_filter,
        maxpool2x2_forward, maxpool2x2_backward, adam_update, dot,
    };
    return k;
}

}  // namespace cairn

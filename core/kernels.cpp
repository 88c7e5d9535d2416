// Kernel selection and the compositions every backend shares.
#include "core/kernels.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace cairn {

const char* act_name(Act a) {
    switch (a) {
        case Act::identity: return "identity";
        case Act::relu: return "relu";
        case Act::leaky_relu: return "leaky_relu";
        case Act::sigmoid: return "sigmoid";
        case Act::tanh: return "tanh";
        case Act::gelu: return "gelu";
    }
    return "?";
}

std::vector<const Kernels*> available_kernels() {
    std::vector<const Kernels*> all = {&reference_kernels(), &simd_kernels()};
#if CAIRN_HAS_XNNPACK
    all.push_back(&xnnpack_kernels());
#endif
    return all;
}

const Kernels* find_kernels(const std::string& name) {
    for (const Kernels* k : available_kernels())
        if (name == k->name) return k;
    return nullptr;
}

static const Kernels*& active() {
    static const Kernels* k = [] {
        const char* env = std::getenv("CAIRN_KERNELS");
        const Kernels* chosen = env && *env ? find_kernels(env) : &simd_kernels();
        return chosen ? chosen : &simd_kernels();
    }();
    return k;
}

const Kernels& kernels() { return *active(); }

void set_kernels(const std::string& name) {
    const Kernels* k = find_kernels(name);
    if (!k) {
        std::string names;
        for (const Kernels* a : available_kernels()) names += (names.empty() ? "" : ", ") + std::string(a->name);
        fail("invalid_argument", "unknown kernel backend '" + name + "' (available: " + names + ")");
    }
    active() = k;
}

int64_t conv2d_workspace(const Conv2dShape& s) { return s.pixels() * s.patch(); }

// Forward: cols[pixels x patch] · W[patch x out_c] = Y[pixels x out_c], which is NHWC output directly.
void conv2d_forward_im2col(const Kernels& k, const Conv2dShape& s, const float* x, const float* w,
                           const float* bias, bool relu, float* y, float* work) {
    const bool pointwise = s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                           s.pad_top == 0 && s.pad_left == 0;
    const float* cols = x;  // a 1x1 stride-1 convolution is already a matrix product over pixels
    if (!pointwise) {
        k.im2col(s, x, work);
        cols = work;
    }
    GemmArgs g;
    g.m = s.pixels(); g.n = s.out_c; g.k = s.patch();
    g.a = cols; g.lda = s.patch();
    g.b = w; g.ldb = s.out_c;
    g.c = y; g.ldc = s.out_c;
    g.bias = bias; g.relu = relu;
    k.gemm(g);
}

// dX: dcols = dY[pixels x out_c] · Wᵀ, then col2im scatters the patches back.
void conv2d_backward_data_im2col(const Kernels& k, const Conv2dShape& s, const float* dy, const float* w,
                                 float* dx, float* work) {
    GemmArgs g;
    g.m = s.pixels(); g.n = s.patch(); g.k = s.out_c;
    g.a = dy; g.lda = s.out_c;
    g.b = w; g.ldb = s.out_c; g.trans_b = true;
    g.c = work; g.ldc = s.patch();
    k.gemm(g);
    std::memset(dx, 0, sizeof(float) * s.batch * s.in_h * s.in_w * s.in_c);
    k.col2im(s, work, dx);
}

// dW = colsᵀ · dY ([patch x pixels] · [pixels x out_c]); db = column sums of dY.
void conv2d_backward_filter_im2col(const Kernels& k, const Conv2dShape& s, const float* x, const float* dy,
                                   float* dw, float* db, float* work) {
    k.im2col(s, x, work);
    GemmArgs g;
    g.m = s.patch(); g.n = s.out_c; g.k = s.pixels();
    g.a = work; g.lda = s.patch(); g.trans_a = true;
    g.b = dy; g.ldb = s.out_c;
    g.c = dw; g.ldc = s.out_c;
    k.gemm(g);
    if (db) k.sum_over_rows(dy, s.out_c, s.pixels(), s.out_c, db);
}

}  // namespace cairn

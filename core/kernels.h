// The kernel layer: one table of function pointers per backend, chosen once.
//
// Every op the engine needs goes through cairn::kernels(). Backends:
//   reference  plain scalar C++, written for clarity; the oracle every other backend is tested against.
//   simd       portable SIMD (core/kernels/simd/), one source for wasm SIMD128 and native SSE/AVX.
//   xnnpack    native only, Debian's libXNNPACK for the ops its 2022 API has; the rest comes from simd.
//
// Kernels work on raw pointers with explicit leading dimensions so strided 2-D views need no copy.
// Layouts: images are NHWC, convolution weights HWIO ([kh, kw, in_c, out_c]), matching XNNPACK.
//
// Index of this file
// [SECTION] Argument structs
// [SECTION] Kernel table
// [SECTION] Selection
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Argument structs
//-----------------------------------------------------------------------------

enum class Act : uint8_t { identity = 0, relu, leaky_relu, sigmoid, tanh, gelu };
const char* act_name(Act a);

// C[m x n] = op(A)·op(B) (+ C if accumulate) (+ bias[n]) then max(0, .) if relu.
// A is stored m x k (row stride lda) or, with trans_a, k x m; likewise B is k x n or, with trans_b, n x k.
// Bias and ReLU apply to the final sum, so with accumulate they see C's old value too.
struct GemmArgs {
    int64_t m = 0, n = 0, k = 0;
    const float* a = nullptr; int64_t lda = 0; bool trans_a = false;
    const float* b = nullptr; int64_t ldb = 0; bool trans_b = false;
    float* c = nullptr; int64_t ldc = 0;
    const float* bias = nullptr;
    bool accumulate = false;
    bool relu = false;
};

// A 2-D convolution over NHWC input with HWIO weights. Padding is explicit so "same" and "valid" are both
// expressed by the caller (see conv2d_same_padding in core/ops.h).
struct Conv2dShape {
    int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
    int64_t out_c = 0, kernel_h = 0, kernel_w = 0;
    int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
    int64_t out_h = 0, out_w = 0;
    int64_t patch() const { return kernel_h * kernel_w * in_c; }   // im2col row length
    int64_t pixels() const { return batch * out_h * out_w; }         // im2col rows
};

//-----------------------------------------------------------------------------
// [SECTION] Kernel table
//-----------------------------------------------------------------------------

struct Kernels {
    const char* name;

    void (*gemm)(const GemmArgs& g);

    // Elementwise over n contiguous floats; y may alias an input.
    void (*add)(const float* a, const float* b, float* y, int64_t n);
    void (*mul)(const float* a, const float* b, float* y, int64_t n);
    void (*scale)(const float* x, float s, float* y, int64_t n);          // y = s*x
    void (*axpy)(float alpha, const float* x, float* y, int64_t n);       // y += alpha*x

    // Activations; alpha is LeakyReLU's slope (ignored by the others). The backward pass gets both the
    // input x and the output y so each activation uses whichever makes its derivative cheap and stable.
    void (*act_forward)(Act act, float alpha, const float* x, float* y, int64_t n);
    void (*act_backward)(Act act, float alpha, const float* x, const float* y, const float* dy, float* dx,
                         int64_t n);

    // Row-wise softmax / log-softmax of a rows x cols matrix (max-subtracted, so stable for any input).
    void (*softmax_rows)(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols);
    void (*log_softmax_rows)(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols);

    // Reductions of a rows x cols matrix: over rows gives cols sums (bias gradients), over cols gives rows sums.
    void (*sum_over_rows)(const float* x, int64_t ldx, int64_t rows, int64_t cols, float* out);
    void (*sum_over_cols)(const float* x, int64_t ldx, int64_t rows, int64_t cols, float* out);

    void (*transpose)(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols);

    // im2col: cols is [pixels x patch], zero where the window hangs over the padding.
    // col2im: the adjoint; adds cols into dx (which the caller zeroes).
    void (*im2col)(const Conv2dShape& s, const float* x, float* cols);
    void (*col2im)(const Conv2dShape& s, const float* cols, float* dx);

    // Convolution with bias and optional ReLU; its two gradients. `work` is scratch of at least
    // conv2d_workspace(s) floats. backward_filter writes dw [kh,kw,in_c,out_c] and db [out_c].
    void (*conv2d_forward)(const Conv2dShape& s, const float* x, const float* w, const float* bias, bool relu,
                           float* y, float* work);
    void (*conv2d_backward_data)(const Conv2dShape& s, const float* dy, const float* w, float* dx, float* work);
    void (*conv2d_backward_filter)(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db,
                                   float* work);

    // 2x2 max-pool, stride 2, NHWC; odd trailing rows/columns are dropped (floor). argmax records, per output,
    // the input offset of the winner so the backward pass routes the gradient there (dx must be zeroed).
    void (*maxpool2x2_forward)(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, float* y,
                               int32_t* argmax);
    void (*maxpool2x2_backward)(const float* dy, const int32_t* argmax, int64_t count, float* dx);

    // One Adam/AdamW step over n parameters; bias corrections are folded into lr_t and eps by the caller.
    void (*adam_update)(float* w, const float* g, float* m, float* v, int64_t n, float lr_t, float beta1,
                        float beta2, float eps, float decoupled_decay);

    // sum a[i]*b[i] over n contiguous floats, returned in double (gradient norms over 10^5+ parameters).
    double (*dot)(const float* a, const float* b, int64_t n);
};

int64_t conv2d_workspace(const Conv2dShape& s);

//-----------------------------------------------------------------------------
// [SECTION] Selection
//-----------------------------------------------------------------------------

// The active table. Chosen once on first use: $CAIRN_KERNELS if set, else "simd".
const Kernels& kernels();
// Override (tests, benchmarks, the CLI's --kernels). Throws Error("invalid_argument") naming the choices.
void set_kernels(const std::string& name);
const Kernels* find_kernels(const std::string& name);  // nullptr if not built in
std::vector<const Kernels*> available_kernels();

// Backends register themselves here (see core/kernels/*/).
const Kernels& reference_kernels();
const Kernels& simd_kernels();
#if CAIRN_HAS_XNNPACK
const Kernels& xnnpack_kernels();
#endif

// Compositions shared by backends: convolution through im2col + the table's own gemm.
void conv2d_forward_im2col(const Kernels& k, const Conv2dShape& s, const float* x, const float* w,
                           const float* bias, bool relu, float* y, float* work);
void conv2d_backward_data_im2col(const Kernels& k, const Conv2dShape& s, const float* dy, const float* w,
                                 float* dx, float* work);
void conv2d_backward_filter_im2col(const Kernels& k, const Conv2dShape& s, const float* x, const float* dy,
                                   float* dw, float* db, float* work);

}  // namespace cairn

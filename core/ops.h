// Tensor-level ops over the kernel table: shape checks with clear errors, then one call into cairn::kernels().
//
// Layers, losses and optimizers compute only through these functions (or the table directly), so a faster
// backend speeds up training without touching them. Inputs must be f32; ops taking 2-D operands accept strided
// row views (slices), elementwise ops need contiguous tensors (they say so when not).
//
// Index of this file
// [SECTION] Matrix products
// [SECTION] Elementwise and activations
// [SECTION] Softmax and reductions
// [SECTION] Convolution and pooling
#pragma once
#include <cstdint>

#include "core/kernels.h"
#include "core/tensor.h"

namespace cairn::ops {

//-----------------------------------------------------------------------------
// [SECTION] Matrix products
//-----------------------------------------------------------------------------

// C = op(A)·op(B) (+ C if accumulate) (+ bias[n]) then ReLU if relu; A and B are 2-D.
struct MatmulDesc {
    bool trans_a = false, trans_b = false;
    const Tensor* bias = nullptr;  // [n]
    bool relu = false;
    bool accumulate = false;       // matmul_into only
};
Tensor matmul(const Tensor& a, const Tensor& b, const MatmulDesc& d = {});
void matmul_into(Tensor& c, const Tensor& a, const Tensor& b, const MatmulDesc& d = {});

//-----------------------------------------------------------------------------
// [SECTION] Elementwise and activations
//-----------------------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, float s);
void axpy(float alpha, const Tensor& x, Tensor& y);        // y += alpha*x
void scale_(Tensor& x, float s);                          // in place
// Row broadcasts over the last axis: x viewed as [rows, c], each row *= v / += v (v has c elements).
void mul_rows_(Tensor& x, const Tensor& v);
void add_rows_(Tensor& x, const Tensor& v);
double dot(const Tensor& a, const Tensor& b);             // sum a*b (the table's dot kernel)
double sum_squares(const Tensor& x);

Tensor activation(Act act, float alpha, const Tensor& x);
// dx from the activation's input x, output y and upstream dy (for ReLU, x may be y: the sign is the same).
Tensor activation_backward(Act act, float alpha, const Tensor& x, const Tensor& y, const Tensor& dy);

//-----------------------------------------------------------------------------
// [SECTION] Softmax and reductions
//-----------------------------------------------------------------------------

Tensor softmax(const Tensor& x);      // over the last axis of a 2-D tensor
Tensor log_softmax(const Tensor& x);
Tensor sum_rows(const Tensor& x);     // [rows, cols] -> [cols] (column sums: bias gradients)
Tensor sum_cols(const Tensor& x);     // [rows, cols] -> [rows]

//-----------------------------------------------------------------------------
// [SECTION] Convolution and pooling
//-----------------------------------------------------------------------------

enum class Padding : uint8_t { valid = 0, same = 1 };
const char* padding_name(Padding p);

// Output size and leading padding along one axis. "same" follows TensorFlow: out = ceil(in / stride) with the
// odd pixel of padding at the end, which for stride 1 and odd kernels equals PyTorch's padding=k/2.
struct Padding1d { int64_t out = 0, before = 0; };
Padding1d conv_padding(int64_t in, int64_t kernel, int64_t stride, Padding p);

// x is NHWC [n, h, w, c], w is HWIO [kh, kw, c, out_c]. Throws shape_mismatch naming both shapes.
Conv2dShape conv2d_shape(const Shape& x, const Shape& w, int64_t stride_h, int64_t stride_w, Padding p);
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dShape& s, bool relu = false);
Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dShape& s);
void conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Conv2dShape& s, Tensor& dw, Tensor* db);

// 2x2 max-pool with stride 2 over NHWC; argmax is an i32 tensor shaped like y.
struct Pooled { Tensor y, argmax; };
Pooled maxpool2x2(const Tensor& x);
Tensor maxpool2x2_backward(const Tensor& dy, const Tensor& argmax, const Shape& x_shape);

}  // namespace cairn::ops

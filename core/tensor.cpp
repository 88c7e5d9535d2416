#include "core/tensor.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Shape
//-----------------------------------------------------------------------------

std::string shape_str(const Shape& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

Shape contiguous_strides(const Shape& s) {
    Shape st(s.size());
    int64_t acc = 1;
    for (size_t i = s.size(); i-- > 0;) { st[i] = acc; acc *= s[i]; }
    return st;
}

const char* dtype_name(DType t) { return t == DType::f32 ? "f32" : t == DType::i8 ? "i8" : "i32"; }

//-----------------------------------------------------------------------------
// [SECTION] Storage
//-----------------------------------------------------------------------------

Storage::Storage(size_t n) : bytes(n) {
    // Rounded up so aligned_alloc's size-multiple rule holds; the slack also lets SIMD tails over-read safely.
    size_t padded = (n + 64 + 63) / 64 * 64;
    data = std::aligned_alloc(64, padded);
    if (!data) fail("out_of_memory", "cannot allocate " + std::to_string(n) + " bytes for a tensor");
}
Storage::~Storage() { std::free(data); }

//-----------------------------------------------------------------------------
// [SECTION] Tensor
//-----------------------------------------------------------------------------

static void check_shape_valid(const Shape& shape) {
    for (int64_t d : shape)
        if (d < 0) fail("shape_invalid", "negative dimension in shape " + shape_str(shape));
}

Tensor Tensor::empty(Shape shape, DType dtype) {
    check_shape_valid(shape);
    Tensor t;
    t.strides_ = contiguous_strides(shape);
    t.dtype_ = dtype;
    t.storage_ = std::make_shared<Storage>(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype));
    t.shape_ = std::move(shape);
    return t;
}

Tensor Tensor::zeros(Shape shape, DType dtype) {
    Tensor t = empty(std::move(shape), dtype);
    std::memset(t.storage_->data, 0, t.storage_->bytes);
    return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
    Tensor t = empty(shape);
    t.fill(value);
    return t;
}

Tensor Tensor::from(const Shape& shape, const float* values) {
    Tensor t = empty(shape);
    if (t.numel()) std::memcpy(t.data(), values, sizeof(float) * t.numel());
    return t;
}

Tensor Tensor::from(const Shape& shape, std::initializer_list<float> values) {
    if (static_cast<int64_t>(values.size()) != shape_numel(shape))
        fail("shape_mismatch", "Tensor::from: shape " + shape_str(shape) + " needs " +
                                   std::to_string(shape_numel(shape)) + " values, got " +
                                   std::to_string(values.size()));
    return from(shape, values.begin());
}

int64_t Tensor::dim(int axis) const {
    int r = rank();
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r)
        fail("shape_invalid", "axis " + std::to_string(axis) + " out of range for shape " + shape_str(shape_));
    return shape_[axis];
}

bool Tensor::is_contiguous() const {
    int64_t acc = 1;
    for (size_t i = shape_.size(); i-- > 0;) {
        if (shape_[i] != 1 && strides_[i] != acc) return false;
        acc *= shape_[i];
    }
    return true;
}

float& Tensor::at(std::initializer_list<int64_t> index) {
    assert(static_cast<int>(index.size()) == rank() && dtype_ == DType::f32);
    int64_t off = 0;
    int i = 0;
    for (int64_t v : index) {
        assert(v >= 0 && v < shape_[i]);
        off += v * strides_[i++];
    }
    return data<float>()[off];
}

float Tensor::at(std::initializer_list<int64_t> index) const { return const_cast<Tensor*>(this)->at(index); }

Tensor Tensor::reshape(const Shape& shape) const {
    Shape s = shape;
    int infer = -1;
    int64_t known = 1;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == -1) {
            if (infer >= 0) fail("shape_invalid", "reshape to " + shape_str(shape) + ": more than one -1");
            infer = static_cast<int>(i);
        } else {
            known *= s[i];
        }
    }
    if (infer >= 0) s[infer] = known ? numel() / known : 0;
    if (shape_numel(s) != numel())
        fail("shape_mismatch", "reshape " + shape_str(shape_) + " to " + shape_str(shape) + ": element counts differ");
    if (!is_contiguous())
        fail("shape_invalid", "reshape of a non-contiguous view " + shape_str(shape_) + "; call contiguous() first");
    Tensor t = *this;
    t.shape_ = s;
    t.strides_ = contiguous_strides(s);
    return t;
}

Tensor Tensor::slice(int axis, int64_t begin, int64_t end) const {
    int64_t n = dim(axis);
    if (axis < 0) axis += rank();
    if (begin < 0 || end > n || begin > end)
        fail("shape_invalid", "slice [" + std::to_string(begin) + ", " + std::to_string(end) + ") of axis " +
                                  std::to_string(axis) + " in shape " + shape_str(shape_));
    Tensor t = *this;
    t.offset_ += begin * strides_[axis];
    t.shape_[axis] = end - begin;
    return t;
}

Tensor Tensor::transpose() const {
    if (rank() < 2) fail("shape_invalid", "transpose needs rank >= 2, got shape " + shape_str(shape_));
    Tensor t = *this;
    std::swap(t.shape_[rank() - 1], t.shape_[rank() - 2]);
    std::swap(t.strides_[rank() - 1], t.strides_[rank() - 2]);
    return t;
}

static void copy_strided(const char* src, const Shape& shape, const Shape& sst, char* dst, const Shape& dst_st,
                         size_t es, int axis) {
    if (axis == static_cast<int>(shape.size()) - 1) {
        for (int64_t i = 0; i < shape[axis]; ++i)
            std::memcpy(dst + i * dst_st[axis] * es, src + i * sst[axis] * es, es);
        return;
    }
    for (int64_t i = 0; i < shape[axis]; ++i)
        copy_strided(src + i * sst[axis] * es, shape, sst, dst + i * dst_st[axis] * es, dst_st, es, axis + 1);
}

void Tensor::copy_from(const Tensor& src) {
    check_same_shape(*this, src, "copy_from");
    if (dtype_ != src.dtype_)
        fail("dtype_mismatch", std::string("copy_from: ") + dtype_name(dtype_) + " <- " + dtype_name(src.dtype_));
    if (numel() == 0) return;
    if (is_contiguous() && src.is_contiguous()) {
        std::memmove(raw(), src.raw(), numel() * dtype_size(dtype_));
        return;
    }
    copy_strided(static_cast<const char*>(src.raw()), shape_, src.strides_, static_cast<char*>(raw()), strides_,
                 dtype_size(dtype_), 0);
}

Tensor Tensor::clone() const {
    if (!defined()) return Tensor();
    Tensor t = empty(shape_, dtype_);
    t.copy_from(*this);
    return t;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

void Tensor::fill(float value) {
    if (dtype_ != DType::f32) fail("dtype_mismatch", "fill needs an f32 tensor");
    if (is_contiguous()) {
        float* p = data();
        for (int64_t i = 0, n = numel(); i < n; ++i) p[i] = value;
        return;
    }
    Tensor src = full(shape_, value);
    copy_from(src);
}

int64_t Tensor::ld() const {
    if (rank() != 2) fail("shape_invalid", "ld() needs a 2-D tensor, got shape " + shape_str(shape_));
    if (strides_[1] != 1 && shape_[1] != 1)
        fail("shape_invalid", "2-D view " + shape_str(shape_) + " has non-unit column stride");
    return shape_[0] == 1 ? std::max<int64_t>(strides_[0], shape_[1]) : strides_[0];
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
    if (a.shape() != b.shape())
        fail("shape_mismatch", std::string(what) + ": shapes " + shape_str(a.shape()) + " and " +
                                   shape_str(b.shape()) + " differ");
}

void check_shape(const Tensor& t, const Shape& expected, const char* what) {
    if (t.shape() != expected)
        fail("shape_mismatch", std::string(what) + ": expected shape " + shape_str(expected) + ", got " +
                                   shape_str(t.shape()));
}

void check_shape(const Tensor& t, std::initializer_list<int64_t> expected, const char* what) {
    if (!std::equal(t.shape().begin(), t.shape().end(), expected.begin(), expected.end()))
        check_shape(t, Shape(expected), what);
}

}  // namespace cairn

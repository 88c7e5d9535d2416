// Tensor: shape + strides over shared, aligned storage.
//
// A Tensor is a cheap handle: copying it or taking a view (reshape, slice, transpose) shares the storage.
// clone() / contiguous() make real copies. Storage is 64-byte aligned so SIMD kernels can use aligned loads
// on the first row. f32 is the compute type; i8 and i32 storage exist for quantized weights and labels.
//
// Index of this file
// [SECTION] Shape
// [SECTION] Storage
// [SECTION] Tensor
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Shape
//-----------------------------------------------------------------------------

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);  // "[64, 784]"
// Inline, as are dtype_size and Tensor::data(): callers use them in loops over elements, where a call for each
// element cost 20 µs of a wasm training step.
inline int64_t shape_numel(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return s.empty() ? 0 : n;
}
Shape contiguous_strides(const Shape& s);  // row-major, in elements

enum class DType : uint8_t { f32 = 0, i8 = 1, i32 = 2 };
inline size_t dtype_size(DType t) { return t == DType::i8 ? 1 : 4; }
const char* dtype_name(DType t);

//-----------------------------------------------------------------------------
// [SECTION] Storage
//-----------------------------------------------------------------------------

struct Storage {
    explicit Storage(size_t bytes);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    void* data = nullptr;
    size_t bytes = 0;
};

//-----------------------------------------------------------------------------
// [SECTION] Tensor
//-----------------------------------------------------------------------------

class Tensor {
public:
    Tensor() = default;  // an empty tensor: rank 0, numel 0, no storage
    // By value, so a temporary shape moves in: a batch-1 pass makes a tensor per layer, and in the threaded wasm
    // build every allocation takes the allocator's lock.
    static Tensor empty(Shape shape, DType dtype = DType::f32);  // uninitialised
    static Tensor zeros(Shape shape, DType dtype = DType::f32);
    static Tensor full(const Shape& shape, float value);
    static Tensor from(const Shape& shape, const float* values);       // copies
    static Tensor from(const Shape& shape, std::initializer_list<float> values);

    bool defined() const { return storage_ != nullptr; }
    DType dtype() const { return dtype_; }
    const Shape& shape() const { return shape_; }
    const Shape& strides() const { return strides_; }
    int rank() const { return static_cast<int>(shape_.size()); }
    int64_t dim(int axis) const;  // negative axis counts from the end
    int64_t numel() const { return shape_numel(shape_); }
    bool is_contiguous() const;

    template <class T = float> T* data() { return reinterpret_cast<T*>(raw()); }
    template <class T = float> const T* data() const { return reinterpret_cast<const T*>(raw()); }

    // Element access for tests and small loops; bounds-checked only in debug builds.
    float& at(std::initializer_list<int64_t> index);
    float at(std::initializer_list<int64_t> index) const;

    // Views share storage.
    Tensor reshape(const Shape& shape) const;               // needs contiguous; one dim may be -1
    Tensor slice(int axis, int64_t begin, int64_t end) const;
    Tensor transpose() const;                               // swaps the last two axes (a view)
    Tensor row(int64_t i) const { return slice(0, i, i + 1).reshape(drop_first(shape_)); }

    // Copies.
    Tensor clone() const;       // contiguous deep copy
    Tensor contiguous() const;  // *this when already contiguous, else a copy
    void copy_from(const Tensor& src);  // same shape, any strides
    void fill(float value);

    // Row stride of a 2-D view (elements), for kernels that take a leading dimension.
    int64_t ld() const;

private:
    static Shape drop_first(const Shape& s) { return Shape(s.begin() + 1, s.end()); }
    void* raw() const {
        return storage_ ? static_cast<char*>(storage_->data) + offset_ * static_cast<int64_t>(dtype_size(dtype_))
                        : nullptr;
    }
    std::shared_ptr<Storage> storage_;
    int64_t offset_ = 0;  // elements
    Shape shape_, strides_;
    DType dtype_ = DType::f32;
};

// Throws Error("shape_mismatch") naming both shapes and what was being done.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);
void check_shape(const Tensor& t, const Shape& expected, const char* what);
// The same for a shape written in place ({m, n}), compared without building a Shape unless it differs: a product
// checks its output on every call, and in the threaded wasm build each allocation takes the allocator's lock.
void check_shape(const Tensor& t, std::initializer_list<int64_t> expected, const char* what);

}  // namespace cairn

// A weight matrix W [rows, cols] in its in-memory format; every projection computes y = W x
// (PyTorch's [out, in] convention). Formats:
//   kF32, kBF16 : row-major elements.
//   kAffine     : MLX affine quantization (spec §5): each row is a little-endian bit stream of
//                 `bits`-wide codes; w[r,c] = scale[r, c/g] * code + bias[r, c/g].
// Weights stay in this format in memory; kernels convert inside the dot products.
#pragma once

#include "tensor/dtype.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace tessera {

enum class WeightFormat { kF32, kBF16, kAffine };

// 64-byte aligned, uninitialised byte buffer (std::vector would zero-fill gigabytes).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], Free> data_;
  size_t size_ = 0;
};

// Per-group affine parameters (scales or biases), [rows, cols / group_size]. Kept as bf16 when
// the checkpoint stores bf16 (MLX's usual dtype, and what --quantize writes): half the bytes of
// fp32, which matters next to 4-bit codes (0.95 → 0.88 GB per token on the bench model). Any
// other dtype is widened to fp32, so no stored value is ever rounded.
struct GroupParams {
  std::vector<float> f32;
  std::vector<uint16_t> bf16;

  bool is_bf16() const { return !bf16.empty(); }
  size_t size() const { return f32.size() + bf16.size(); }
  size_t bytes() const { return f32.size() * sizeof(float) + bf16.size() * sizeof(uint16_t); }
  float operator[](int64_t i) const { return is_bf16() ? bf16_to_f32(bf16[i]) : f32[i]; }
  // Address of element i in whichever vector holds them (kernels read the dtype from is_bf16()).
  const void* at(int64_t i) const {
    return is_bf16() ? static_cast<const void*>(bf16.data() + i) : static_cast<const void*>(f32.data() + i);
  }
};

struct Matrix {
  WeightFormat format = WeightFormat::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  AlignedBuffer data;            // owned storage, or empty when the weight is used in place
  const uint8_t* view = nullptr;  // in-place storage inside a memory-mapped checkpoint
  // kAffine only.
  int bits = 0;
  int group_size = 0;
  int64_t row_bytes = 0;      // packed bytes per row = cols * bits / 8
  GroupParams scales;  // [rows, cols / group_size]
  GroupParams biases;

  bool empty() const { return rows == 0; }
  size_t bytes() const;  // bytes of the weight (codes + scales + biases), owned or mapped
  const uint8_t* storage() const { return view ? view : data.data(); }
  const float* f32_row(int64_t r) const { return reinterpret_cast<const float*>(storage()) + r * cols; }
  const uint16_t* bf16_row(int64_t r) const { return reinterpret_cast<const uint16_t*>(storage()) + r * cols; }
  const uint8_t* packed_row(int64_t r) const { return storage() + r * row_bytes; }
};

}  // namespace tessera

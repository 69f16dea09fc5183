// A weight matrix W [rows, cols] in its in-memory format; every projection computes y = W x
// (PyTorch's [out, in] convention). Formats:
//   kF32, kBF16 : row-major elements.
//   kAffine     : MLX affine quantization (spec §5): each row is a little-endian bit stream of
//                 `bits`-wide codes; w[r,c] = scale[r, c/g] * code + bias[r, c/g].
// Weights stay in this format in memory; kernels convert inside the dot products.
#pragma once

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
  std::vector<float> scales;  // [rows, cols / group_size]
  std::vector<float> biases;

  bool empty() const { return rows == 0; }
  size_t bytes() const;  // bytes of the weight (codes + scales + biases), owned or mapped
  const uint8_t* storage() const { return view ? view : data.data(); }
  const float* f32_row(int64_t r) const { return reinterpret_cast<const float*>(storage()) + r * cols; }
  const uint16_t* bf16_row(int64_t r) const { return reinterpret_cast<const uint16_t*>(storage()) + r * cols; }
  const uint8_t* packed_row(int64_t r) const { return storage() + r * row_bytes; }
};

}  // namespace tessera

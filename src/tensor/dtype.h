// Storage dtypes of weights (as found in safetensors and after load-time packing).
// Activations are always fp32.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tessera {

enum class DType { kF32, kBF16, kF16, kU32, kI32, kU8, kI64, kF64 };

size_t dtype_size(DType dtype);
inline bool is_float_dtype(DType d) { return d == DType::kF32 || d == DType::kBF16 || d == DType::kF16; }
std::string_view dtype_name(DType dtype);                // safetensors spelling: "BF16", ...
bool parse_safetensors_dtype(std::string_view name, DType* out);

inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round-to-nearest-even, as PyTorch and NumPy reference writers do.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float f16_to_f32(uint16_t v);

}  // namespace tessera

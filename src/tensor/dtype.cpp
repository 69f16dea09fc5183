#include "tensor/dtype.h"

#include <cmath>

namespace tessera {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32:
    case DType::kU32:
    case DType::kI32: return 4;
    case DType::kBF16:
    case DType::kF16: return 2;
    case DType::kU8: return 1;
    case DType::kI64:
    case DType::kF64: return 8;
  }
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kBF16: return "BF16";
    case DType::kF16: return "F16";
    case DType::kU32: return "U32";
    case DType::kI32: return "I32";
    case DType::kU8: return "U8";
    case DType::kI64: return "I64";
    case DType::kF64: return "F64";
  }
  return "?";
}

bool parse_safetensors_dtype(std::string_view name, DType* out) {
  static const struct { std::string_view name; DType dtype; } kTable[] = {
      {"F32", DType::kF32}, {"BF16", DType::kBF16}, {"F16", DType::kF16}, {"U32", DType::kU32},
      {"I32", DType::kI32}, {"U8", DType::kU8},     {"I64", DType::kI64}, {"F64", DType::kF64}};
  for (const auto& row : kTable)
    if (row.name == name) {
      *out = row.dtype;
      return true;
    }
  return false;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  float value;
  if (exponent == 0) value = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31) value = mantissa ? NAN : INFINITY;
  else value = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  return sign ? -value : value;
}

}  // namespace tessera

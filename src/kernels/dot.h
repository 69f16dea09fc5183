// Dot products over contiguous fp32 activations and bf16 → fp32 row conversion, one body per
// ISA; callers reach them through the active kernel set (kernels/kernel_set.h).
#pragma once

#include <cstdint>

namespace tessera {

float dot_f32_scalar(const float* a, const float* b, int64_t n);
float dot_f32_avx2(const float* a, const float* b, int64_t n);
void bf16_to_f32_row_scalar(const uint16_t* in, float* out, int64_t n);
void bf16_to_f32_row_avx2(const uint16_t* in, float* out, int64_t n);

}  // namespace tessera

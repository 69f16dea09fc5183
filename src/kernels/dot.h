// Dot products over contiguous fp32 activations, AVX2 + FMA (the build's baseline ISA).
#pragma once

#include <cstdint>

namespace tessera {

float dot_f32(const float* a, const float* b, int64_t n);
void bf16_to_f32_row(const uint16_t* in, float* out, int64_t n);

}  // namespace tessera

// Dot products of one MLX affine-quantized row with fp32 activations, without dequantizing the
// row first. Within a group g:  Σ_c (s_g q_c + b_g) x_c = s_g Σ_c q_c x_c + b_g Σ_c x_c,
// so the activations are prepared once per call (AffineActivations: per-group sums, and for
// 4-bit a nibble-friendly order) and every row only converts its codes and multiplies.
#pragma once

#include <cstdint>
#include <vector>

namespace tessera {

// Prepared activations for one token, shared by every row of one matrix.
struct AffineActivations {
  std::vector<float> group_sums;  // [cols / group_size]
  std::vector<float> x;           // in the order the codes are unpacked (see affine_dot.cpp)
};

void prepare_affine_activations(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out);

// Every width 2..8 with group_size a multiple of 16 (4 and 8 bits have dedicated loops).
bool affine_dot_supported(int bits, int group_size);
float affine_dot(const uint8_t* codes, const float* scales, const float* biases, const AffineActivations& a,
                 int64_t cols, int group_size, int bits);

}  // namespace tessera

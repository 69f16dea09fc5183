// The inner loops of kernels/attention.cpp, one body per ISA (the kernel sets hold them).
#pragma once

#include <cstdint>

namespace tessera {

// out[b] = q · k_b for the 4 keys at keys, keys + stride, ... (head_dim floats each).
void attention_scores4_scalar(const float* q, const float* keys, int64_t stride, int64_t head_dim, float* out);
void attention_scores4_avx2(const float* q, const float* keys, int64_t stride, int64_t head_dim, float* out);
// o += Σ_b p[b] · v_b over n value rows at values + b * stride.
void attention_add_values_scalar(const float* p, int64_t n, const float* values, int64_t stride, int64_t head_dim,
                                 float* o);
void attention_add_values_avx2(const float* p, int64_t n, const float* values, int64_t stride, int64_t head_dim,
                               float* o);

}  // namespace tessera

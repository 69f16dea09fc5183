// AVX2 + FMA bodies of the attention inner loops (kernels/attention_blocks.h).
#include "kernels/attention_blocks.h"

#include <immintrin.h>

namespace tessera {

// q · k_j for 4 consecutive keys: q is loaded once per 8 dims for all four, and the four sums
// are reduced together (one horizontal-add tree instead of four).
void attention_scores4_avx2(const float* q, const float* keys, int64_t stride, int64_t head_dim, float* out) {
  const float* k0 = keys;
  const float* k1 = keys + stride;
  const float* k2 = keys + 2 * stride;
  const float* k3 = keys + 3 * stride;
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t e = 0;
  for (; e + 8 <= head_dim; e += 8) {
    const __m256 qv = _mm256_loadu_ps(q + e);
    a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + e), a0);
    a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k1 + e), a1);
    a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k2 + e), a2);
    a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k3 + e), a3);
  }
  const __m256 pairs = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(pairs), _mm256_extractf128_ps(pairs, 1)));
  for (; e < head_dim; ++e) {
    out[0] += q[e] * k0[e];
    out[1] += q[e] * k1[e];
    out[2] += q[e] * k2[e];
    out[3] += q[e] * k3[e];
  }
}
// o += Σ_b p[b] · v_b over a block of value rows, 64 dims at a time held in registers across
// the block (one load and store of o per block instead of per key).
void attention_add_values_avx2(const float* p, int64_t n, const float* values, int64_t stride, int64_t head_dim,
                                float* o) {
  int64_t e0 = 0;
  for (; e0 + 64 <= head_dim; e0 += 64) {
    __m256 acc[8];
    for (int c = 0; c < 8; ++c) acc[c] = _mm256_loadu_ps(o + e0 + 8 * c);
    for (int64_t b = 0; b < n; ++b) {
      const __m256 pb = _mm256_set1_ps(p[b]);
      const float* v = values + b * stride + e0;
      for (int c = 0; c < 8; ++c) acc[c] = _mm256_fmadd_ps(pb, _mm256_loadu_ps(v + 8 * c), acc[c]);
    }
    for (int c = 0; c < 8; ++c) _mm256_storeu_ps(o + e0 + 8 * c, acc[c]);
  }
  for (int64_t b = 0; b < n; ++b)
    for (int64_t e = e0; e < head_dim; ++e) o[e] += p[b] * values[b * stride + e];
}

}  // namespace tessera

#include "kernels/attention.h"

#include "kernels/dot.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace tessera {

namespace {
constexpr int64_t kBlock = 16;  // keys per block: their rows stay in L1 while every head uses them

// q · k_j for 4 consecutive keys: q is loaded once per 8 dims for all four, and the four sums
// are reduced together (one horizontal-add tree instead of four).
inline void scores4(const float* q, const float* keys, int64_t stride, int64_t head_dim, float* out) {
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
inline void add_weighted_values(const float* p, int64_t n, const float* values, int64_t stride, int64_t head_dim,
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

}  // namespace

// One pass over the cache, a block of keys at a time, with an online softmax per query head:
// the block's scores are computed for every head, then each head's running maximum m, normaliser
// l and weighted sum of values are rescaled once if the block raised the maximum, and the block's
// values are added with weights exp(s - m). Keys and values are read once for the whole group,
// and no score buffer beyond one block is needed.
void attend_group(const float* const* q, int64_t n_heads, const float* keys, const float* values, int64_t stride,
                  int64_t n_keys, int64_t head_dim, float scale, float* const* out) {
  std::vector<float> m(static_cast<size_t>(n_heads), -INFINITY), s(static_cast<size_t>(n_heads * kBlock));
  std::vector<double> l(static_cast<size_t>(n_heads), 0.0);
  for (int64_t i = 0; i < n_heads; ++i) std::fill(out[i], out[i] + head_dim, 0.0f);
  for (int64_t j0 = 0; j0 < n_keys; j0 += kBlock) {
    const int64_t nb = std::min(kBlock, n_keys - j0);
    for (int64_t i = 0; i < n_heads; ++i) {
      float* si = s.data() + i * kBlock;
      float block_max = -INFINITY;
      int64_t b = 0;
      for (; b + 4 <= nb; b += 4) scores4(q[i], keys + (j0 + b) * stride, stride, head_dim, si + b);
      for (; b < nb; ++b) si[b] = dot_f32(q[i], keys + (j0 + b) * stride, head_dim);
      for (b = 0; b < nb; ++b) {
        si[b] *= scale;
        block_max = std::max(block_max, si[b]);
      }
      float* o = out[i];
      if (block_max > m[i]) {
        const float rescale = std::exp(m[i] - block_max);  // 0 on the first block (m = -inf)
        for (int64_t e = 0; e < head_dim; ++e) o[e] *= rescale;
        l[i] *= rescale;
        m[i] = block_max;
      }
      float p[kBlock];
      for (int64_t b = 0; b < nb; ++b) {
        p[b] = std::exp(si[b] - m[i]);
        l[i] += p[b];
      }
      add_weighted_values(p, nb, values + j0 * stride, stride, head_dim, o);
    }
  }
  for (int64_t i = 0; i < n_heads; ++i) {
    const float inv = static_cast<float>(1.0 / l[i]);
    for (int64_t e = 0; e < head_dim; ++e) out[i][e] *= inv;
  }
}

void attend(const float* q, const float* keys, const float* values, int64_t stride, int64_t n_keys,
            int64_t head_dim, float scale, float* out) {
  attend_group(&q, 1, keys, values, stride, n_keys, head_dim, scale, &out);
}

}  // namespace tessera

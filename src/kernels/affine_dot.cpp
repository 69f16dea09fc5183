#include "kernels/affine_dot.h"

#include <immintrin.h>

namespace tessera {

namespace {
inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_hadd_ps(lo, lo);
  lo = _mm_hadd_ps(lo, lo);
  return _mm_cvtss_f32(lo);
}
inline __m256i load8_u8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
}  // namespace

bool affine_dot_supported(int bits, int group_size) { return (bits == 4 || bits == 8) && group_size % 16 == 0; }

void prepare_affine_activations(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out) {
  const int64_t groups = cols / group_size;
  out->group_sums.assign(static_cast<size_t>(groups), 0.0f);
  for (int64_t g = 0; g < groups; ++g) {
    float s = 0;
    for (int64_t c = g * group_size; c < (g + 1) * group_size; ++c) s += x[c];
    out->group_sums[g] = s;
  }
  out->x.resize(static_cast<size_t>(cols));
  if (bits == 4) {
    // Byte j holds code 2j in its low nibble and 2j+1 in its high nibble.
    for (int64_t base = 0; base < cols; base += 16)
      for (int64_t j = 0; j < 8; ++j) {
        out->x[base + j] = x[base + 2 * j];
        out->x[base + 8 + j] = x[base + 2 * j + 1];
      }
  } else {
    std::copy(x, x + cols, out->x.begin());
  }
}

float affine_dot(const uint8_t* codes, const float* scales, const float* biases, const AffineActivations& a,
                 int64_t cols, int group_size, int bits) {
  const int64_t groups = cols / group_size;
  const float* x = a.x.data();
  __m256 total = _mm256_setzero_ps();
  float bias_total = 0;
  const __m256i low_mask = _mm256_set1_epi32(0xF);
  for (int64_t g = 0; g < groups; ++g) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const int64_t c0 = g * group_size;
    if (bits == 4) {
      const uint8_t* p = codes + c0 / 2;
      for (int64_t c = 0; c < group_size; c += 16, p += 8) {
        const __m256i v = load8_u8(p);
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v, low_mask)), _mm256_loadu_ps(x + c0 + c), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4)), _mm256_loadu_ps(x + c0 + c + 8), acc1);
      }
    } else {
      const uint8_t* p = codes + c0;
      for (int64_t c = 0; c < group_size; c += 16, p += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(load8_u8(p)), _mm256_loadu_ps(x + c0 + c), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(load8_u8(p + 8)), _mm256_loadu_ps(x + c0 + c + 8), acc1);
      }
    }
    total = _mm256_fmadd_ps(_mm256_add_ps(acc0, acc1), _mm256_set1_ps(scales[g]), total);
    bias_total += biases[g] * a.group_sums[g];
  }
  return hsum(total) + bias_total;
}

}  // namespace tessera

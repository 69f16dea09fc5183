// AVX2 + FMA bodies of kernels/dot.h.
#include "kernels/dot.h"

#include "kernels/simd_avx2.h"
#include "tensor/dtype.h"

#include <immintrin.h>

namespace tessera {

using simd::hsum;
using simd::load_bf16x8;

float dot_f32_avx2(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void bf16_to_f32_row_avx2(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load_bf16x8(in + i));
  for (; i < n; ++i) out[i] = bf16_to_f32(in[i]);
}

}  // namespace tessera

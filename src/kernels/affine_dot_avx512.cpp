#include "kernels/affine_dot.h"

#include <immintrin.h>

namespace tessera {

// AVX-512 bodies for the two common widths. 4-bit: 16 bytes hold 32 codes; widening them to 16
// dwords puts code 2j in the low nibble and 2j+1 in the high nibble of dword j, so the prepared
// activations come as 16 even-indexed then 16 odd-indexed values per 32 codes.
float affine_dot_avx512(const uint8_t* codes, const float* scales, const float* biases, const float* x,
                        const float* group_sums, int64_t cols, int group_size, int bits) {
  const int64_t groups = cols / group_size;
  __m512 total = _mm512_setzero_ps();
  float bias_total = 0;
  const __m512i low_mask = _mm512_set1_epi32(0xF);
  for (int64_t g = 0; g < groups; ++g) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const int64_t c0 = g * group_size;
    if (bits == 4) {
      const uint8_t* p = codes + c0 / 2;
      for (int64_t c = 0; c < group_size; c += 32, p += 16) {
        const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, low_mask)), _mm512_loadu_ps(x + c0 + c), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), _mm512_loadu_ps(x + c0 + c + 16), acc1);
      }
    } else {  // 8 bits
      const uint8_t* p = codes + c0;
      for (int64_t c = 0; c < group_size; c += 32, p += 32) {
        const __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        const __m512i v1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v0), _mm512_loadu_ps(x + c0 + c), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v1), _mm512_loadu_ps(x + c0 + c + 16), acc1);
      }
    }
    total = _mm512_fmadd_ps(_mm512_add_ps(acc0, acc1), _mm512_set1_ps(scales[g]), total);
    bias_total += biases[g] * group_sums[g];
  }
  return _mm512_reduce_add_ps(total) + bias_total;
}

}  // namespace tessera

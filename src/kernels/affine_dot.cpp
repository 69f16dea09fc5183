#include "kernels/affine_dot.h"


#include "kernels/simd_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace tessera {

using simd::hsum;

namespace {
inline __m256i load8_u8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
}  // namespace

bool affine_dot_supported(int bits, int group_size) { return bits >= 2 && bits <= 8 && group_size % 16 == 0; }

namespace {
// Other widths: 8 codes span 8*bits <= 64 bits starting on a byte boundary. The 64-bit window
// is broadcast and shifted per 64-bit lane by {0,1,2,3}*bits and {4,5,6,7}*bits; interleaving
// the low dwords gives the codes in lane order 0,4,1,5,2,6,3,7, which the prepared activations
// follow.
constexpr int kGenericOrder[8] = {0, 4, 1, 5, 2, 6, 3, 7};

}  // namespace

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
    // Byte j holds code 2j in its low nibble and 2j+1 in its high nibble; a block of 8 bytes
    // yields 8 even codes, then 8 odd ones.
    const int64_t half = 8;
    for (int64_t base = 0; base < cols; base += 2 * half)
      for (int64_t j = 0; j < half; ++j) {
        out->x[base + j] = x[base + 2 * j];
        out->x[base + half + j] = x[base + 2 * j + 1];
      }
  } else if (bits == 8) {
    std::copy(x, x + cols, out->x.begin());
  } else {
    for (int64_t base = 0; base < cols; base += 8)
      for (int j = 0; j < 8; ++j) out->x[base + j] = x[base + kGenericOrder[j]];
  }
}

float affine_dot(const uint8_t* codes, const float* scales, const float* biases, const AffineActivations& a,
                 int64_t cols, int group_size, int bits) {
  // AVX2 on purpose: on Zen 4 (512-bit ops double-pumped) an AVX-512 body of this widen-convert-FMA
  // loop was no faster, and a two-rows-per-pass one slower (q4 decode 12.5 vs 16.5 tok/s on the
  // bench model).
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
    } else if (bits == 8) {
      const uint8_t* p = codes + c0;
      for (int64_t c = 0; c < group_size; c += 16, p += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(load8_u8(p)), _mm256_loadu_ps(x + c0 + c), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(load8_u8(p + 8)), _mm256_loadu_ps(x + c0 + c + 8), acc1);
      }
    } else {
      const __m256i shift_lo = _mm256_set_epi64x(3 * bits, 2 * bits, bits, 0);
      const __m256i shift_hi = _mm256_set_epi64x(7 * bits, 6 * bits, 5 * bits, 4 * bits);
      const __m256i mask = _mm256_set1_epi32((1 << bits) - 1);
      const int64_t row_bytes = cols * bits / 8;
      for (int64_t c = 0; c < group_size; c += 8) {
        const int64_t byte = (c0 + c) * bits / 8;
        uint64_t window = 0;
        std::memcpy(&window, codes + byte, static_cast<size_t>(row_bytes - byte >= 8 ? 8 : row_bytes - byte));
        const __m256i v = _mm256_set1_epi64x(static_cast<long long>(window));
        const __m256i lo = _mm256_srlv_epi64(v, shift_lo), hi = _mm256_srlv_epi64(v, shift_hi);
        const __m256i q = _mm256_and_si256(_mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0xAA), mask);
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), _mm256_loadu_ps(x + c0 + c), acc0);
      }
    }
    total = _mm256_fmadd_ps(_mm256_add_ps(acc0, acc1), _mm256_set1_ps(scales[g]), total);
    bias_total += biases[g] * a.group_sums[g];
  }
  return hsum(total) + bias_total;
}

}  // namespace tessera

// AVX2 + FMA bodies of the affine dot product (kernels/affine_dot.h): the activation
// preparation and the code sums by vpmaddwd. Compiled for Haswell and called only through the
// kernel set (kernels/kernel_set.h) on a CPU that has AVX2 and FMA.
#include "kernels/affine_codes.h"
#include "kernels/affine_dot.h"
#include "kernels/simd_avx2.h"
#include "tensor/dtype.h"

#include <immintrin.h>

#include <cmath>
#include <limits>

namespace tessera {

using simd::hsum;

void prepare_affine_activations_avx2(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out) {
  // Runs once per input and token on the calling thread while the other threads wait, so it is
  // vectorised: 8 activations at a time into a unit buffer, then placed by the unit's layout.
  // The buffers are sized by the caller (baseline code: no std::vector member is instantiated here).
  const int64_t groups = cols / group_size;
  // Blocks of at least 8 activations (the 8-bit order is the identity, so any block works).
  const int unit = affine_unpack_unit(group_size, bits), block = unit > 8 ? unit : 8;
  int position[64];
  for (int i = 0; i < block; ++i) position[i] = unit == 1 ? i : static_cast<int>(affine_position_in_unit(i, unit, bits));
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  alignas(32) int32_t unit_hi[64], unit_lo[64];
  for (int64_t g = 0; g < groups; ++g) {
    const float* xg = x + g * group_size;
    int16_t* hi = out->xq.data() + g * group_size;
    int16_t* lo = hi + cols;
    __m256 sum = _mm256_setzero_ps(), amax = _mm256_setzero_ps();
    for (int64_t c = 0; c < group_size; c += 8) {
      const __m256 v = _mm256_loadu_ps(xg + c);
      sum = _mm256_add_ps(sum, v);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v));
    }
    float amax_values[8];
    _mm256_storeu_ps(amax_values, amax);
    float group_max = 0;
    for (float m : amax_values) group_max = m > group_max ? m : group_max;
    out->group_sums[g] = simd::hsum(sum);
    // A NaN reaches the sum (vmaxps may drop it from the max); an Inf reaches the max.
    if (!std::isfinite(out->group_sums[g]) || !std::isfinite(group_max)) {
      // Keep fp32 semantics: a NaN or Inf activation must poison the output, not vanish.
      out->group_steps[g] = std::numeric_limits<float>::quiet_NaN();
      for (int64_t c = 0; c < group_size; ++c) hi[c] = lo[c] = 0;
      continue;
    }
    const float step_value = group_max / 32767.0f;
    out->group_steps[g] = step_value;
    const __m256 inverse = _mm256_set1_ps(group_max > 0 ? 32767.0f / group_max : 0.0f);
    const __m256 step = _mm256_set1_ps(step_value), lo_scale = _mm256_mul_ps(inverse, _mm256_set1_ps(32768.0f));
    for (int64_t base = 0; base < group_size; base += block) {
      for (int i = 0; i < block; i += 8) {
        const __m256 v = _mm256_loadu_ps(xg + base + i);
        // Round to nearest even, as nearbyint: |v·inverse| ≤ 32767 by construction.
        const __m256 h = _mm256_round_ps(_mm256_mul_ps(v, inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        // |v - h·step| ≤ step/2 (plus fp32 rounding), so lo stays near ±16384, far from int16 limits.
        const __m256 l = _mm256_round_ps(_mm256_mul_ps(_mm256_fnmadd_ps(h, step, v), lo_scale),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_store_si256(reinterpret_cast<__m256i*>(unit_hi + i), _mm256_cvtps_epi32(h));
        _mm256_store_si256(reinterpret_cast<__m256i*>(unit_lo + i), _mm256_cvtps_epi32(l));
      }
      for (int i = 0; i < block; ++i) {
        hi[base + position[i]] = static_cast<int16_t>(unit_hi[i]);
        lo[base + position[i]] = static_cast<int16_t>(unit_lo[i]);
      }
    }
  }
}

// ---- AVX2 body ------------------------------------------------------------------------------
// Codes are widened to 16-bit lanes and multiplied with vpmaddwd (16 products per instruction,
// summed in pairs into 8 int32 lanes), once with the hi and once with the lo activations; per
// group the two int32 vectors are converted once and scaled by s_g · step_g. Per group of 256 at
// most 256·255·32767 < 2^31, so int32 cannot overflow.
namespace {

inline __m256i widen16_u8(const uint8_t* p) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m256i load_xq(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// Σ codes × hi and Σ codes × lo over one group, 8 int32 lanes each. `low` is the distance from
// a hi activation to its lo twin (= cols).
struct GroupSums {
  __m256i hi = _mm256_setzero_si256(), lo = _mm256_setzero_si256();
  void add(__m256i codes, const int16_t* xq, int64_t low) {
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(codes, load_xq(xq)));
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(codes, load_xq(xq + low)));
  }
};

inline GroupSums group_sum_4bit(const uint8_t* p, const int16_t* xq, int64_t low, int group_size) {
  const __m256i mask = _mm256_set1_epi16(0x0F);
  GroupSums s;
  if (group_size % 64 == 0) {
    for (int u = 0; u < group_size; u += 64, p += 32, xq += 64)
      for (int k = 0; k < 2; ++k) {
        const __m256i v = widen16_u8(p + 16 * k);
        s.add(_mm256_and_si256(v, mask), xq + 16 * k, low);
        s.add(_mm256_srli_epi16(v, 4), xq + 32 + 16 * k, low);
      }
  } else {
    for (int u = 0; u < group_size; u += 32, p += 16, xq += 32) {
      const __m256i v = widen16_u8(p);
      s.add(_mm256_and_si256(v, mask), xq, low);
      s.add(_mm256_srli_epi16(v, 4), xq + 16, low);
    }
  }
  return s;
}

inline GroupSums group_sum_8bit(const uint8_t* p, const int16_t* xq, int64_t low, int group_size) {
  GroupSums s;
  for (int c = 0; c < group_size; c += 16) s.add(widen16_u8(p + c), xq + c, low);
  return s;
}

// 6 bits: each 16-bit lane gathers the two bytes holding its code (pshufb); multiplying by
// 2^(10 - shift) moves the code to the top 6 bits (the product wraps, dropping the bits above),
// and a shift right by 10 brings it down — a per-lane variable shift AVX2 lacks for 16 bits.
inline GroupSums group_sum_6bit(const uint8_t* p, const int16_t* xq, int64_t low, int group_size) {
  // Lane 0 reads the unit's bytes 0..15, lane 1 bytes 8..23 (codes 16..31 start at its byte 4).
  // A code at bit shift 2 lies within one byte; the last one's second index (-128) reads zero.
  const __m256i gather_a = _mm256_setr_epi8(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6,  //
                                            4, 5, 4, 5, 5, 6, 6, 7, 7, 8, 7, 8, 8, 9, 9, 10);
  const __m256i gather_b = _mm256_setr_epi8(6, 7, 6, 7, 7, 8, 8, 9, 9, 10, 9, 10, 10, 11, 11, 12,  //
                                            10, 11, 10, 11, 11, 12, 12, 13, 13, 14, 13, 14, 14, 15, 15, -128);
  const __m256i align = _mm256_setr_epi16(1024, 16, 64, 256, 1024, 16, 64, 256, 1024, 16, 64, 256, 1024, 16, 64, 256);
  GroupSums s;
  for (int u = 0; u < group_size; u += 32, p += 24, xq += 32) {
    const __m256i bytes = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)), 1);
    s.add(_mm256_srli_epi16(_mm256_mullo_epi16(_mm256_shuffle_epi8(bytes, gather_a), align), 10), xq, low);
    s.add(_mm256_srli_epi16(_mm256_mullo_epi16(_mm256_shuffle_epi8(bytes, gather_b), align), 10), xq + 16, low);
  }
  return s;
}

// Other widths: 8 codes span 8·bits ≤ 64 bits from a byte boundary. The 64-bit window is
// broadcast and shifted per 64-bit lane by {0..3}·bits and {4..7}·bits; blending the low dwords
// gives codes 0,4,1,5,2,6,3,7 in 32-bit lanes; two windows pack to 16 lanes.
inline __m256i window_codes(const uint8_t* row, int64_t row_bytes, int64_t c, int bits) {
  const __m256i shift_lo = _mm256_set_epi64x(3 * bits, 2 * bits, bits, 0);
  const __m256i shift_hi = _mm256_set_epi64x(7 * bits, 6 * bits, 5 * bits, 4 * bits);
  const __m256i mask = _mm256_set1_epi32((1 << bits) - 1);
  const int64_t byte = c * bits / 8;
  uint64_t window = 0;
  std::memcpy(&window, row + byte, static_cast<size_t>(std::min<int64_t>(8, row_bytes - byte)));
  const __m256i v = _mm256_set1_epi64x(static_cast<long long>(window));
  const __m256i lo = _mm256_srlv_epi64(v, shift_lo), hi = _mm256_srlv_epi64(v, shift_hi);
  return _mm256_and_si256(_mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0xAA), mask);
}

inline GroupSums group_sum_generic(const uint8_t* row, int64_t row_bytes, int64_t c0, const int16_t* xq, int64_t low,
                                   int group_size, int bits) {
  GroupSums s;
  for (int c = 0; c < group_size; c += 16)
    s.add(_mm256_packus_epi32(window_codes(row, row_bytes, c0 + c, bits), window_codes(row, row_bytes, c0 + c + 8, bits)),
          xq + c, low);
  return s;
}

float dot_row(const uint8_t* codes, const void* scales, const void* biases, bool bf16_params, const AffineActivations& a,
              int64_t cols, int group_size, int bits) {
  const int64_t groups = cols / group_size, row_bytes = cols * bits / 8;
  const __m256 lo_weight = _mm256_set1_ps(1.0f / 32768.0f);
  __m256 total = _mm256_setzero_ps();
  float bias_total = 0;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t c0 = g * group_size;
    const int16_t* xq = a.xq.data() + c0;
    GroupSums s;
    if (bits == 4) s = group_sum_4bit(codes + c0 / 2, xq, cols, group_size);
    else if (bits == 8) s = group_sum_8bit(codes + c0, xq, cols, group_size);
    else if (bits == 6) s = group_sum_6bit(codes + c0 * 6 / 8, xq, cols, group_size);
    else s = group_sum_generic(codes, row_bytes, c0, xq, cols, group_size, bits);
    const __m256 sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s.lo), lo_weight, _mm256_cvtepi32_ps(s.hi));
    total = _mm256_fmadd_ps(sum, _mm256_set1_ps(group_param(scales, g, bf16_params) * a.group_steps[g]), total);
    bias_total += group_param(biases, g, bf16_params) * a.group_sums[g];
  }
  return hsum(total) + bias_total;
}

}  // namespace

void affine_dot_rows_avx2(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y,
                          int64_t y_stride) {
  const int64_t groups = rows.cols / rows.group_size;
  for (size_t t = 0; t < tokens.size(); ++t)
    for (int64_t r = 0; r < rows.n_rows; ++r)
      y[static_cast<int64_t>(t) * y_stride + r] =
          dot_row(rows.codes + r * rows.row_bytes(), param_row(rows.scales, r * groups, rows.bf16_params),
                  param_row(rows.biases, r * groups, rows.bf16_params), rows.bf16_params, tokens[t], rows.cols,
                  rows.group_size, rows.bits);
}

}  // namespace tessera

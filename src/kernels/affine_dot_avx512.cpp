// AVX-512 body of affine_dot (kernels/affine_dot.h): codes widened to 32 16-bit lanes and
// multiplied with the int16 activations by VNNI vpdpwssd (32 products per instruction). 6-bit
// codes are gathered with VBMI vpermb and aligned with the per-lane 16-bit shift vpsrlvw. The
// activation order is the one the AVX2 body defines, so both read the same AffineActivations.
#include "kernels/affine_dot.h"

// GCC 12's _mm512_reduce_add_ps and _mm512_cvtepi32_ps start from _mm512_undefined_*(), which
// -W(maybe-)uninitialized reports as a read of an uninitialised value; it is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>

namespace tessera {

bool affine_dot_avx512_supported(int bits, int group_size) {
  const bool group_ok = group_size == 32 || group_size == 64 || group_size == 128;  // MLX's group sizes
  return group_ok && (bits == 8 || bits == 6 || (bits == 4 && group_size != 32));
}

namespace {

inline __m512i load_xq(const int16_t* p) { return _mm512_loadu_si512(p); }

inline __m512i widen32_u8(const uint8_t* p) {
  return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// 6 bits, one unit of 32 codes (24 bytes) in the unit order [0..7, 16..23, 8..15, 24..31]:
// lane i holds the two bytes around code_of(i), shifted right by that code's bit offset.
struct SixBitGather {
  __m512i bytes;
  __m512i shifts;
  SixBitGather() {
    alignas(64) uint8_t index[64];
    alignas(64) uint16_t shift[32];
    static constexpr int kCodeAt[32] = {0,  1,  2,  3,  4,  5,  6,  7,  16, 17, 18, 19, 20, 21, 22, 23,
                                        8,  9,  10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
    for (int i = 0; i < 32; ++i) {
      const int bit = kCodeAt[i] * 6;
      index[2 * i] = static_cast<uint8_t>(bit / 8);
      index[2 * i + 1] = static_cast<uint8_t>(bit / 8 + 1);  // byte 24 is zero (masked load)
      shift[i] = static_cast<uint16_t>(bit % 8);
    }
    bytes = _mm512_load_si512(index);
    shifts = _mm512_load_si512(shift);
  }
};

// Σ codes × hi and Σ codes × lo over one group, 16 int32 lanes each (lo sits `cols` after hi).
// Width and group size are template parameters so the per-group loops unroll completely.
struct GroupSums {
  __m512i hi = _mm512_setzero_si512(), lo = _mm512_setzero_si512();
  void add(__m512i codes, const int16_t* xq, int64_t low) {
    hi = _mm512_dpwssd_epi32(hi, codes, load_xq(xq));
    lo = _mm512_dpwssd_epi32(lo, codes, load_xq(xq + low));
  }
  __m512 value() const {  // hi + lo / 32768, as floats
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), _mm512_set1_ps(1.0f / 32768.0f), _mm512_cvtepi32_ps(hi));
  }
};

template <int bits, int group_size>
inline GroupSums group_sum(const uint8_t* codes, const int16_t* xq, int64_t low, int64_t c0, const SixBitGather& six) {
  const __m512i low4 = _mm512_set1_epi16(0x0F), low6 = _mm512_set1_epi16(0x3F);
  GroupSums s;
  if constexpr (bits == 4) {
    const uint8_t* p = codes + c0 / 2;
    for (int u = 0; u < group_size; u += 64, p += 32, xq += 64) {
      const __m512i v = widen32_u8(p);
      s.add(_mm512_and_si512(v, low4), xq, low);
      s.add(_mm512_srli_epi16(v, 4), xq + 32, low);
    }
  } else if constexpr (bits == 8) {
    const uint8_t* p = codes + c0;
    for (int u = 0; u < group_size; u += 32) s.add(widen32_u8(p + u), xq + u, low);
  } else {  // 6
    const uint8_t* p = codes + c0 * 6 / 8;
    for (int u = 0; u < group_size; u += 32, p += 24, xq += 32) {
      const __m512i bytes = _mm512_maskz_loadu_epi8(0xFFFFFFull, p);
      const __m512i v = _mm512_srlv_epi16(_mm512_permutexvar_epi8(six.bytes, bytes), six.shifts);
      s.add(_mm512_and_si512(v, low6), xq, low);
    }
  }
  return s;
}

// Groups are taken 16 at a time: their factors s_g · step_g and the bias terms b_g · Σx_g are
// computed as vectors (scalar per-group bookkeeping cost as much as the codes), and two
// running totals alternate so consecutive groups do not wait on one FMA chain.
constexpr int64_t kPrefetchBytes = 2048;

// Up to 16 scales or biases from element g0, as fp32.
inline __m512 load_params(const void* p, int64_t g0, __mmask16 mask, bool bf16) {
  if (bf16) {
    const __m256i raw = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(p) + g0);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
  }
  return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(p) + g0);
}

template <int bits, int group_size>
inline float dot(const uint8_t* codes, const void* scales, const void* biases, bool bf16_params, const AffineActivations& a,
                 int64_t cols) {
  static const SixBitGather six;
  const int64_t groups = cols / group_size;
  __m512 total0 = _mm512_setzero_ps(), total1 = _mm512_setzero_ps(), bias_total = _mm512_setzero_ps();
  alignas(64) float factor[16];
  const int16_t* xq = a.xq.data();
  for (int64_t g0 = 0; g0 < groups; g0 += 16) {
    const int64_t n = std::min<int64_t>(16, groups - g0);
    const auto mask = static_cast<__mmask16>((1u << n) - 1);
    _mm512_store_ps(factor, _mm512_mul_ps(load_params(scales, g0, mask, bf16_params),
                                          _mm512_maskz_loadu_ps(mask, a.group_steps.data() + g0)));
    bias_total = _mm512_fmadd_ps(load_params(biases, g0, mask, bf16_params),
                                 _mm512_maskz_loadu_ps(mask, a.group_sums.data() + g0), bias_total);
    int64_t j = 0;
    for (; j + 1 < n; j += 2) {
      const int64_t c0 = (g0 + j) * group_size, c1 = c0 + group_size;
      // Software prefetch ahead of the stream: the integer work per byte leaves too few loads in
      // flight for the hardware prefetcher alone to reach full bandwidth. Past the row's end it
      // fetches the next row, which is what the caller reads next.
      for (int64_t line = 0; line < 2 * group_size * bits / 8; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(codes + c0 * bits / 8 + kPrefetchBytes + line), _MM_HINT_T0);
      const GroupSums sum0 = group_sum<bits, group_size>(codes, xq + c0, cols, c0, six);
      const GroupSums sum1 = group_sum<bits, group_size>(codes, xq + c1, cols, c1, six);
      total0 = _mm512_fmadd_ps(sum0.value(), _mm512_set1_ps(factor[j]), total0);
      total1 = _mm512_fmadd_ps(sum1.value(), _mm512_set1_ps(factor[j + 1]), total1);
    }
    if (j < n) {
      const int64_t c0 = (g0 + j) * group_size;
      total0 = _mm512_fmadd_ps(group_sum<bits, group_size>(codes, xq + c0, cols, c0, six).value(),
                               _mm512_set1_ps(factor[j]), total0);
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(total0, total1), bias_total));
}

// Token by token: unpacking a group's codes once for several tokens was measured slower (the
// per-token integer work dominates and the extra accumulators spill), so a decode batch reuses
// each row from cache instead.
template <int bits, int group_size>
void rows_loop(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y, int64_t y_stride) {
  const int64_t groups = rows.cols / group_size, row_bytes = rows.row_bytes();
  for (size_t t = 0; t < tokens.size(); ++t)
    for (int64_t r = 0; r < rows.n_rows; ++r)
      y[static_cast<int64_t>(t) * y_stride + r] =
          dot<bits, group_size>(rows.codes + r * row_bytes, param_row(rows.scales, r * groups, rows.bf16_params),
                                param_row(rows.biases, r * groups, rows.bf16_params), rows.bf16_params, tokens[t],
                                rows.cols);
}

template <int bits>
void rows_for_group(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y, int64_t y_stride) {
  switch (rows.group_size) {
    case 32:
      if constexpr (bits != 4) return rows_loop<bits, 32>(rows, tokens, y, y_stride);
      break;
    case 128: return rows_loop<bits, 128>(rows, tokens, y, y_stride);
    default: break;
  }
  rows_loop<bits, 64>(rows, tokens, y, y_stride);  // 64, and nothing else by affine_dot_avx512_supported
}

}  // namespace

void affine_dot_rows_avx512(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y,
                            int64_t y_stride) {
  if (rows.bits == 4) return rows_for_group<4>(rows, tokens, y, y_stride);
  if (rows.bits == 8) return rows_for_group<8>(rows, tokens, y, y_stride);
  rows_for_group<6>(rows, tokens, y, y_stride);
}

}  // namespace tessera

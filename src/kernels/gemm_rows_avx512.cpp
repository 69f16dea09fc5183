#include "kernels/gemm_rows.h"

// GCC 12's _mm512_reduce_add_ps starts from _mm512_undefined_ps(), which -Wmaybe-uninitialized
// reports as a use of an uninitialised value; the value is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace tessera {

namespace {

struct LoadBf16 {
  static __m512 load(const void* p, int64_t k) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + k));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static float scalar(const void* p, int64_t k) {
    const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(p)[k]) << 16;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
  }
};
struct LoadF32 {
  static __m512 load(const void* p, int64_t k) { return _mm512_loadu_ps(static_cast<const float*>(p) + k); }
  static float scalar(const void* p, int64_t k) { return static_cast<const float*>(p)[k]; }
};

// One tile: the 4 rows against NT tokens (NT < 4 only for the last tile: a decode step is one
// token, and must not pay for four). Each (row, token) sum runs over k in the same order for
// every NT, so a token's result does not depend on the other tokens of the call.
template <class Load, int NT>
void tile(const RowBlock& b, const void* const r[4], int64_t K, const float* const xt[NT], float* y, int64_t ldy) {
  const int64_t K16 = K / 16 * 16;
  __m512 acc[4][NT];
  for (int i = 0; i < 4; ++i)
    for (int t = 0; t < NT; ++t) acc[i][t] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K16; k += 16) {
    const __m512 w0 = Load::load(r[0], k), w1 = Load::load(r[1], k), w2 = Load::load(r[2], k), w3 = Load::load(r[3], k);
    for (int t = 0; t < NT; ++t) {
      const __m512 xv = _mm512_loadu_ps(xt[t] + k);
      acc[0][t] = _mm512_fmadd_ps(w0, xv, acc[0][t]);
      acc[1][t] = _mm512_fmadd_ps(w1, xv, acc[1][t]);
      acc[2][t] = _mm512_fmadd_ps(w2, xv, acc[2][t]);
      acc[3][t] = _mm512_fmadd_ps(w3, xv, acc[3][t]);
    }
  }
  for (int i = 0; i < b.n_rows; ++i)
    for (int t = 0; t < NT; ++t) {
      float s = _mm512_reduce_add_ps(acc[i][t]);
      for (int64_t k = K16; k < K; ++k) s += Load::scalar(r[i], k) * xt[t][k];
      y[t * ldy + i] = s;
    }
}

template <class Load>
void kernel(const RowBlock& b, int64_t K, const float* x, int64_t ldx, int64_t T, float* y, int64_t ldy) {
  const void* r[4];
  for (int i = 0; i < 4; ++i) r[i] = b.rows[i < b.n_rows ? i : 0];  // missing rows repeat row 0, unused
  for (int64_t t0 = 0; t0 < T; t0 += 4) {
    const float* xt[4];
    for (int t = 0; t < 4; ++t) xt[t] = x + (t0 + t) * ldx;
    float* yt = y + t0 * ldy;
    switch (T - t0) {
      case 1: tile<Load, 1>(b, r, K, xt, yt, ldy); break;
      case 2: tile<Load, 2>(b, r, K, xt, yt, ldy); break;
      case 3: tile<Load, 3>(b, r, K, xt, yt, ldy); break;
      default: tile<Load, 4>(b, r, K, xt, yt, ldy); break;
    }
  }
}

template <class Load>
float one_row(const void* row, const float* x, int64_t K) {
  const int64_t K16 = K / 16 * 16;
  __m512 acc = _mm512_setzero_ps();
  for (int64_t k = 0; k < K16; k += 16) acc = _mm512_fmadd_ps(Load::load(row, k), _mm512_loadu_ps(x + k), acc);
  float s = _mm512_reduce_add_ps(acc);
  for (int64_t k = K16; k < K; ++k) s += Load::scalar(row, k) * x[k];
  return s;
}

}  // namespace

float row_dot_avx512(const void* row, bool bf16, const float* x, int64_t K) {
  return bf16 ? one_row<LoadBf16>(row, x, K) : one_row<LoadF32>(row, x, K);
}

void gemm_rows_avx512(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                      int64_t ldy) {
  if (block.bf16) kernel<LoadBf16>(block, K, x, ldx, n_tokens, y, ldy);
  else kernel<LoadF32>(block, K, x, ldx, n_tokens, y, ldy);
}

}  // namespace tessera

#include "kernels/gemm_rows.h"

#include "tensor/dtype.h"

#include "kernels/simd_avx2.h"

#include <immintrin.h>

namespace tessera {

using simd::hsum;

namespace {

struct LoadBf16 {
  static __m256 load(const void* p, int64_t k) { return simd::load_bf16x8(static_cast<const uint16_t*>(p) + k); }
  static float scalar(const void* p, int64_t k) { return bf16_to_f32(static_cast<const uint16_t*>(p)[k]); }
};
struct LoadF32 {
  static __m256 load(const void* p, int64_t k) { return _mm256_loadu_ps(static_cast<const float*>(p) + k); }
  static float scalar(const void* p, int64_t k) { return static_cast<const float*>(p)[k]; }
};

// 4 rows × 3 tokens: 12 ymm accumulators + 4 rows + 1 activation fit the 16 AVX2 registers.
// The last tile takes NT < 3 tokens (a decode step is one token and must not pay for three);
// each (row, token) sum runs over k in the same order for every NT, so a token's result does
// not depend on the other tokens of the call.
constexpr int kTokens = 3;

template <class Load, int NT>
void tile(const RowBlock& b, const void* const r[4], int64_t K, const float* const xt[NT], float* y, int64_t ldy) {
  const int64_t K8 = K / 8 * 8;
  __m256 acc[4][NT];
  for (int i = 0; i < 4; ++i)
    for (int t = 0; t < NT; ++t) acc[i][t] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K8; k += 8) {
    const __m256 w0 = Load::load(r[0], k), w1 = Load::load(r[1], k), w2 = Load::load(r[2], k), w3 = Load::load(r[3], k);
    for (int t = 0; t < NT; ++t) {
      const __m256 xv = _mm256_loadu_ps(xt[t] + k);
      acc[0][t] = _mm256_fmadd_ps(w0, xv, acc[0][t]);
      acc[1][t] = _mm256_fmadd_ps(w1, xv, acc[1][t]);
      acc[2][t] = _mm256_fmadd_ps(w2, xv, acc[2][t]);
      acc[3][t] = _mm256_fmadd_ps(w3, xv, acc[3][t]);
    }
  }
  for (int i = 0; i < b.n_rows; ++i)
    for (int t = 0; t < NT; ++t) {
      float s = hsum(acc[i][t]);
      for (int64_t k = K8; k < K; ++k) s += Load::scalar(r[i], k) * xt[t][k];
      y[t * ldy + i] = s;
    }
}

template <class Load>
void kernel(const RowBlock& b, int64_t K, const float* x, int64_t ldx, int64_t T, float* y, int64_t ldy) {
  const void* r[4];
  for (int i = 0; i < 4; ++i) r[i] = b.rows[i < b.n_rows ? i : 0];
  for (int64_t t0 = 0; t0 < T; t0 += kTokens) {
    const float* xt[kTokens];
    for (int t = 0; t < kTokens; ++t) xt[t] = x + (t0 + t) * ldx;
    float* yt = y + t0 * ldy;
    switch (T - t0) {
      case 1: tile<Load, 1>(b, r, K, xt, yt, ldy); break;
      case 2: tile<Load, 2>(b, r, K, xt, yt, ldy); break;
      default: tile<Load, 3>(b, r, K, xt, yt, ldy); break;
    }
  }
}

template <class Load>
float one_row(const void* row, const float* x, int64_t K) {
  const int64_t K8 = K / 8 * 8;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < K8; k += 8) acc = _mm256_fmadd_ps(Load::load(row, k), _mm256_loadu_ps(x + k), acc);
  float s = hsum(acc);
  for (int64_t k = K8; k < K; ++k) s += Load::scalar(row, k) * x[k];
  return s;
}

}  // namespace

float row_dot_avx2(const void* row, bool bf16, const float* x, int64_t K) {
  return bf16 ? one_row<LoadBf16>(row, x, K) : one_row<LoadF32>(row, x, K);
}

void gemm_rows_avx2(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                    int64_t ldy) {
  if (block.bf16) kernel<LoadBf16>(block, K, x, ldx, n_tokens, y, ldy);
  else kernel<LoadF32>(block, K, x, ldx, n_tokens, y, ldy);
}

}  // namespace tessera

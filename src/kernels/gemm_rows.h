// The prefill micro-kernel: 4 weight rows × 4 tokens at a time, reading the rows in their
// stored layout (bf16 or fp32) — no packing or transposition. Each of the 16 accumulators is a
// vector of partial sums along k, reduced once at the end; the 4 rows (a few KB) stay in L1
// while every group of 4 tokens streams past them. One body per ISA (the scalar one computes
// each pair with row_dot_scalar).
#pragma once

#include <cstdint>

namespace tessera {

struct RowBlock {
  const void* rows[4];  // row pointers, bf16 or fp32 as `bf16` says; n_rows of them are valid
  int64_t n_rows;
  bool bf16;
};

// y[t * ldy + i] = Σ_k row_i[k] * x[t * ldx + k]   for i < n_rows, t < n_tokens.
void gemm_rows_scalar(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                      int64_t ldy);
void gemm_rows_avx2(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                    int64_t ldy);
void gemm_rows_avx512(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                      int64_t ldy);

// One row against one token, summed in exactly the order the same ISA's tile uses for a
// (row, token) pair. Decode uses it (one row streaming at a time reads memory faster than the
// tile's four), and since the order is the same, a token's result is identical whether it is
// computed alone, in a decode batch, or inside a prefill.
float row_dot_scalar(const void* row, bool bf16, const float* x, int64_t K);
float row_dot_avx2(const void* row, bool bf16, const float* x, int64_t K);
float row_dot_avx512(const void* row, bool bf16, const float* x, int64_t K);

}  // namespace tessera

// The prefill micro-kernel: 4 weight rows × 4 tokens at a time, reading the rows in their
// stored layout (bf16 or fp32) — no packing or transposition. Each of the 16 accumulators is a
// vector of partial sums along k, reduced once at the end; the 4 rows (a few KB) stay in L1
// while every group of 4 tokens streams past them. One body per ISA.
#pragma once

#include <cstdint>

namespace tessera {

struct RowBlock {
  const void* rows[4];  // row pointers, bf16 or fp32 as `bf16` says; n_rows of them are valid
  int64_t n_rows;
  bool bf16;
};

// y[t * ldy + i] = Σ_k row_i[k] * x[t * ldx + k]   for i < n_rows, t < n_tokens.
void gemm_rows_avx2(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                    int64_t ldy);
void gemm_rows_avx512(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                      int64_t ldy);

}  // namespace tessera

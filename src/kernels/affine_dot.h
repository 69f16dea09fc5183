// Dot products of one MLX affine-quantized row with a token's activations, straight from the
// packed codes. Within a group g:  Σ_c (s_g q_c + b_g) x_c = s_g Σ_c q_c x_c + b_g Σ_c x_c.
//
// Why integer activations: converting every code to fp32 for an FMA made decode compute-bound
// (q4 reached ~50 % of memory bandwidth). Instead each group of activations is written once per
// token as two int16 terms, x_c = step_g · (hi_c + lo_c / 32768) with step_g = max|x| / 32767,
// and the code sums are integer multiply-adds on 16-bit lanes (vpmaddwd / AVX-512 VNNI
// vpdpwssd), with the codes unpacked once for both terms. One int16 term alone (error up to
// step/2 ≈ 1.5e-5 · max|x|) moved the logits of a small MLX checkpoint by 2e-4 of their scale —
// the DeltaNet q/k projections feed an L2 norm that amplifies it — over the engine's 1e-4
// contract; with the second term the representation error is ≤ step / 65536 ≈ 5e-10 · max|x|,
// below fp32 rounding. The bias term uses the exact fp32 group sums.
#pragma once

#include "tensor/dtype.h"

#include <cstdint>
#include <span>
#include <vector>

namespace tessera {

// Prepared activations for one token, shared by every row of one matrix.
struct AffineActivations {
  std::vector<float> group_sums;   // [groups] Σ x over the group (fp32, exact)
  std::vector<float> group_steps;  // [groups] x = step · (hi + lo / 32768)
  // [2 * cols]: hi for every column, then lo, each in the order the codes are unpacked
  // (affine_unpack_position).
  std::vector<int16_t> xq;
};

// Every width 2..8; group_size a multiple of 32.
bool affine_dot_supported(int bits, int group_size);

// Where the kernels expect the activation of code c (within a row) to sit in AffineActivations::xq:
// codes are unpacked in units of affine_unpack_unit() codes (1 = natural order), code i of a
// unit at affine_position_in_unit(i) within it.
int64_t affine_unpack_position(int64_t c, int group_size, int bits);
int affine_unpack_unit(int group_size, int bits);
int64_t affine_position_in_unit(int64_t i, int unit, int bits);

void prepare_affine_activations(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out);

// Consecutive rows of one affine matrix: row r's codes at codes + r * row_bytes, its scales and
// biases at element r * (cols / group_size) of scales/biases — bf16 when bf16_params, else fp32
// (tensor/matrix.h, GroupParams).
struct AffineRows {
  const uint8_t* codes;
  const void* scales;
  const void* biases;
  bool bf16_params;
  int64_t n_rows;
  int64_t cols;
  int group_size;
  int bits;
  int64_t row_bytes() const { return cols * bits / 8; }
};

// Element `offset` of a scales/biases array of either dtype.
inline const void* param_row(const void* params, int64_t offset, bool bf16) {
  return static_cast<const char*>(params) + offset * (bf16 ? 2 : 4);
}
// Value of element g of a scales/biases array of either dtype.
inline float group_param(const void* params, int64_t g, bool bf16) {
  return bf16 ? bf16_to_f32(static_cast<const uint16_t*>(params)[g]) : static_cast<const float*>(params)[g];
}

// y[t * y_stride + r] = row r · x_t for r < n_rows and every prepared token t, by the active
// kernel set (kernels/kernel_set.h); rows are looped inside the body so the dispatch is paid once
// per call. Tokens are computed one at a time with the same operations, so a token's result is
// bit-identical alone or in a decode batch.
void affine_dot_rows(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y, int64_t y_stride);

// The ISA bodies (the kernel sets hold them; tests compare each with the scalar one). The
// prepare bodies expect `out` already sized (prepare_affine_activations does it).
void prepare_affine_activations_scalar(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out);
void prepare_affine_activations_avx2(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out);
void affine_dot_rows_scalar(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y,
                            int64_t y_stride);
void affine_dot_rows_avx2(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y, int64_t y_stride);
// The AVX-512 body covers MLX's common formats (8 bits, 6 bits, 4 bits with groups of 64 or 128);
// the AVX-512 kernel set hands the others to the AVX2 body.
bool affine_dot_avx512_supported(int bits, int group_size);
void affine_dot_rows_avx512(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y,
                            int64_t y_stride);

namespace reference {
// Plain loops over the same prepared activations: the integer sums are exact, so every SIMD
// body must agree with this to fp32 rounding of the per-group terms.
float affine_dot(const uint8_t* codes, const void* scales, const void* biases, bool bf16_params,
                 const AffineActivations& a, int64_t cols, int group_size, int bits);
}  // namespace reference

}  // namespace tessera

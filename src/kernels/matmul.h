// Projections: y = W x for a batch of tokens.  W: [rows, cols] (tensor/matrix.h),
// x: [n_tokens, cols] fp32 row-major, y: [n_tokens, rows] fp32.
// Work is split over rows across the pool; each row is converted once and reused by every
// token, so prefill reads each weight once per call.
#pragma once

#include "tensor/matrix.h"
#include "util/thread_pool.h"

namespace tessera {

void matmul(const Matrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// Single-threaded variant for callers that already split work (MoE experts).
void matmul_serial(const Matrix& w, const float* x, int64_t n_tokens, float* y);

// Row r of W as fp32 (dequantized for kAffine). out: [cols].
void matrix_row_f32(const Matrix& w, int64_t r, float* out);

// Plain-loop twins used by tests as the reference for the SIMD paths.
namespace reference {
void matmul(const Matrix& w, const float* x, int64_t n_tokens, float* y);
void matrix_row_f32(const Matrix& w, int64_t r, float* out);
}  // namespace reference

}  // namespace tessera

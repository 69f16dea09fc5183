// Projections: y = W x for a batch of tokens.  W: [rows, cols] (tensor/matrix.h),
// x: [n_tokens, cols] fp32 row-major, y: [n_tokens, rows] fp32.
// Work is split over rows across the pool. Several independent projections can be issued as
// one batch (matmul_jobs) so a layer pays for one thread hand-off instead of one per matrix —
// decode runs hundreds of small projections per token.
#pragma once

#include "tensor/matrix.h"
#include "util/thread_pool.h"

#include <span>

namespace tessera {

struct MatmulJob {
  const Matrix* w;
  const float* x;
  int64_t n_tokens;
  float* y;
};

void matmul_jobs(std::span<const MatmulJob> jobs, ThreadPool& pool);
void matmul(const Matrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// Row r of W as fp32 (dequantized for kAffine). out: [cols].
void matrix_row_f32(const Matrix& w, int64_t r, float* out);

// Plain-loop twins used by tests as the reference for the SIMD paths.
namespace reference {
void matmul(const Matrix& w, const float* x, int64_t n_tokens, float* y);
void matrix_row_f32(const Matrix& w, int64_t r, float* out);
}  // namespace reference

}  // namespace tessera

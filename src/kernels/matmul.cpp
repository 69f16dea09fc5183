#include "kernels/matmul.h"

#include "kernels/affine_codes.h"
#include "kernels/dot.h"
#include "tensor/dtype.h"

#include <algorithm>
#include <vector>

namespace tessera {

namespace {

constexpr int64_t kRowBlock = 4;  // rows converted together and dotted with each token

void dequantize_row(const Matrix& w, int64_t r, float* out) {
  const uint8_t* row = w.packed_row(r);
  const int64_t groups = w.cols / w.group_size;
  const float* scales = w.scales.data() + r * groups;
  const float* biases = w.biases.data() + r * groups;
  if (w.bits == 4) {
    for (int64_t c = 0; c < w.cols; c += 2) {
      const uint8_t b = row[c >> 1];
      const int64_t g = c / w.group_size;
      out[c] = scales[g] * static_cast<float>(b & 15) + biases[g];
      out[c + 1] = scales[g] * static_cast<float>(b >> 4) + biases[g];
    }
  } else if (w.bits == 8) {
    for (int64_t c = 0; c < w.cols; ++c) {
      const int64_t g = c / w.group_size;
      out[c] = scales[g] * static_cast<float>(row[c]) + biases[g];
    }
  } else {
    for (int64_t c = 0; c < w.cols; ++c) {
      const int64_t g = c / w.group_size;
      out[c] = scales[g] * static_cast<float>(affine_code(row, w.row_bytes, c, w.bits)) + biases[g];
    }
  }
}

void rows_block(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n_tokens, float* y,
                std::vector<float>& scratch) {
  const int64_t cols = w.cols;
  if (w.format == WeightFormat::kBF16 && n_tokens == 1) {
    for (int64_t r = r0; r < r1; ++r) y[r] = dot_bf16_f32(w.bf16_row(r), x, cols);
    return;
  }
  if (w.format == WeightFormat::kF32 && n_tokens == 1) {
    for (int64_t r = r0; r < r1; ++r) y[r] = dot_f32(w.f32_row(r), x, cols);
    return;
  }
  scratch.resize(static_cast<size_t>(kRowBlock * cols));
  for (int64_t rb = r0; rb < r1; rb += kRowBlock) {
    const int64_t nr = std::min(kRowBlock, r1 - rb);
    const float* rows[kRowBlock];
    for (int64_t i = 0; i < nr; ++i) {
      if (w.format == WeightFormat::kF32) {
        rows[i] = w.f32_row(rb + i);
      } else {
        matrix_row_f32(w, rb + i, scratch.data() + i * cols);
        rows[i] = scratch.data() + i * cols;
      }
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = x + t * cols;
      float* yt = y + t * w.rows;
      if (nr == kRowBlock) {
        dot4_f32(rows, xt, cols, yt + rb);
      } else {
        for (int64_t i = 0; i < nr; ++i) yt[rb + i] = dot_f32(rows[i], xt, cols);
      }
    }
  }
}

}  // namespace

void matrix_row_f32(const Matrix& w, int64_t r, float* out) {
  switch (w.format) {
    case WeightFormat::kF32: std::copy_n(w.f32_row(r), w.cols, out); break;
    case WeightFormat::kBF16: bf16_to_f32_row(w.bf16_row(r), out, w.cols); break;
    case WeightFormat::kAffine: dequantize_row(w, r, out); break;
  }
}

void matmul_serial(const Matrix& w, const float* x, int64_t n_tokens, float* y) {
  thread_local std::vector<float> scratch;
  rows_block(w, 0, w.rows, x, n_tokens, y, scratch);
}

void matmul(const Matrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  pool.parallel_for(
      (w.rows + kRowBlock - 1) / kRowBlock,
      [&](int64_t b0, int64_t b1, int) {
        thread_local std::vector<float> scratch;
        rows_block(w, b0 * kRowBlock, std::min(w.rows, b1 * kRowBlock), x, n_tokens, y, scratch);
      },
      /*grain=*/16);
}

namespace reference {

void matrix_row_f32(const Matrix& w, int64_t r, float* out) {
  for (int64_t c = 0; c < w.cols; ++c) {
    switch (w.format) {
      case WeightFormat::kF32: out[c] = w.f32_row(r)[c]; break;
      case WeightFormat::kBF16: out[c] = bf16_to_f32(w.bf16_row(r)[c]); break;
      case WeightFormat::kAffine: {
        const int64_t g = c / w.group_size, groups = w.cols / w.group_size;
        out[c] = w.scales[r * groups + g] * static_cast<float>(affine_code(w.packed_row(r), w.row_bytes, c, w.bits)) +
                 w.biases[r * groups + g];
        break;
      }
    }
  }
}

void matmul(const Matrix& w, const float* x, int64_t n_tokens, float* y) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    reference::matrix_row_f32(w, r, row.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      double acc = 0;
      for (int64_t c = 0; c < w.cols; ++c) acc += static_cast<double>(row[c]) * x[t * w.cols + c];
      y[t * w.rows + r] = static_cast<float>(acc);
    }
  }
}

}  // namespace reference
}  // namespace tessera

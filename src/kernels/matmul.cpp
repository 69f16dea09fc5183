#include "kernels/matmul.h"

#include "kernels/affine_codes.h"
#include "kernels/affine_dot.h"
#include "kernels/gemm_rows.h"
#include "kernels/kernel_set.h"
#include "tensor/dtype.h"

#include <algorithm>
#include <vector>

namespace tessera {

namespace {

constexpr int64_t kRowBlock = 16;  // rows handed out to a thread together

void dequantize_row(const Matrix& w, int64_t r, float* out) {
  const uint8_t* row = w.packed_row(r);
  const int64_t groups = w.cols / w.group_size, gs = w.group_size;
  for (int64_t g = 0; g < groups; ++g) {
    const float s = w.scales[r * groups + g], b = w.biases[r * groups + g];
    float* o = out + g * gs;
    if (w.bits == 4) {
      const uint8_t* p = row + g * gs / 2;
      for (int64_t c = 0; c < gs; c += 2) {
        o[c] = s * static_cast<float>(p[c >> 1] & 15) + b;
        o[c + 1] = s * static_cast<float>(p[c >> 1] >> 4) + b;
      }
    } else if (w.bits == 8) {
      const uint8_t* p = row + g * gs;
      for (int64_t c = 0; c < gs; ++c) o[c] = s * static_cast<float>(p[c]) + b;
    } else {
      for (int64_t c = 0; c < gs; ++c)
        o[c] = s * static_cast<float>(affine_code(row, w.row_bytes, g * gs + c, w.bits)) + b;
    }
  }
}

// Batch invariance: a token's output must not depend on which other tokens share the call, so
// that batched decode (one token from each of several requests) gives every request exactly the
// tokens it gets alone. bf16 and fp32 rows: a single token streams each row once through row_dot
// (one stream reads memory faster than the tile's four); several tokens go through the tiled
// kernel, which reuses each row from registers — both sum a (row, token) pair in the same order
// (kernels/gemm_rows.h). Affine rows are multiplied straight from their codes, token by token, up
// to kAffineDirectMaxTokens (decode batches); above it (prefill) rows are dequantized once and
// reused by every token.
constexpr int64_t kAffineDirectMaxTokens = 16;

// Rows [r0, r1) of one projection for every token.
void rows_block(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n_tokens, float* y,
                const std::vector<AffineActivations>* prepared, std::vector<float>& scratch) {
  const int64_t cols = w.cols;
  const KernelSet& k = kernels();
  if (n_tokens == 1 && w.format != WeightFormat::kAffine) {
    const bool bf16 = w.format == WeightFormat::kBF16;
    const auto row_dot = k.row_dot;
    for (int64_t r = r0; r < r1; ++r)
      y[r] = row_dot(bf16 ? static_cast<const void*>(w.bf16_row(r)) : w.f32_row(r), bf16, x, cols);
    return;
  }
  if (prepared) {  // affine, few tokens: dot straight from the codes
    const int64_t groups = cols / w.group_size;
    const AffineRows rows{w.packed_row(r0), w.scales.at(r0 * groups), w.biases.at(r0 * groups), w.scales.is_bf16(),
                          r1 - r0, cols, w.group_size, w.bits};
    affine_dot_rows(rows, *prepared, y + r0, w.rows);
    return;
  }
  // Blocks of 4 rows against groups of tokens (kernels/gemm_rows.h). bf16 and
  // fp32 rows are read in place; affine rows are dequantized once per block.
  const auto kernel = k.gemm_rows;
  const bool affine = w.format == WeightFormat::kAffine;
  if (affine) scratch.resize(static_cast<size_t>(4 * cols));
  for (int64_t rb = r0; rb < r1; rb += 4) {
    RowBlock block{{}, std::min<int64_t>(4, r1 - rb), w.format == WeightFormat::kBF16};
    for (int64_t i = 0; i < block.n_rows; ++i) {
      if (affine) {
        matrix_row_f32(w, rb + i, scratch.data() + i * cols);
        block.rows[i] = scratch.data() + i * cols;
      } else {
        block.rows[i] = block.bf16 ? static_cast<const void*>(w.bf16_row(rb + i)) : w.f32_row(rb + i);
      }
    }
    kernel(block, cols, x, cols, n_tokens, y + rb, w.rows);
  }
}


}  // namespace

void matrix_row_f32(const Matrix& w, int64_t r, float* out) {
  switch (w.format) {
    case WeightFormat::kF32: std::copy_n(w.f32_row(r), w.cols, out); break;
    case WeightFormat::kBF16: kernels().bf16_to_f32_row(w.bf16_row(r), out, w.cols); break;
    case WeightFormat::kAffine: dequantize_row(w, r, out); break;
  }
}

void matmul_jobs(std::span<const MatmulJob> jobs, ThreadPool& pool) {
  // Activations prepared once per (input, token) for the direct affine path; projections that
  // read the same input with the same quantization layout (q/k/v, gate/up) share them.
  std::vector<std::vector<AffineActivations>> prepared_storage;
  prepared_storage.reserve(jobs.size());
  std::vector<const std::vector<AffineActivations>*> prepared(jobs.size(), nullptr);
  std::vector<int64_t> first_block(jobs.size() + 1, 0);
  for (size_t j = 0; j < jobs.size(); ++j) {
    const MatmulJob& job = jobs[j];
    const Matrix& w = *job.w;
    if (w.format == WeightFormat::kAffine && job.n_tokens <= kAffineDirectMaxTokens &&
        affine_dot_supported(w.bits, w.group_size)) {
      for (size_t i = 0; i < j && !prepared[j]; ++i) {
        const Matrix& other = *jobs[i].w;
        if (prepared[i] && jobs[i].x == job.x && jobs[i].n_tokens == job.n_tokens && other.cols == w.cols &&
            other.group_size == w.group_size && other.bits == w.bits)
          prepared[j] = prepared[i];
      }
      if (!prepared[j]) {
        auto& tokens = prepared_storage.emplace_back(static_cast<size_t>(job.n_tokens));
        for (int64_t t = 0; t < job.n_tokens; ++t)
          prepare_affine_activations(job.x + t * w.cols, w.cols, w.group_size, w.bits, &tokens[t]);
        prepared[j] = &tokens;
      }
    }
    first_block[j + 1] = first_block[j] + (w.rows + kRowBlock - 1) / kRowBlock;
  }
  const int64_t total = first_block.back();
  pool.parallel_for(
      total,
      [&](int64_t b0, int64_t b1, int) {
        thread_local std::vector<float> scratch;
        size_t j = static_cast<size_t>(std::upper_bound(first_block.begin(), first_block.end(), b0) - first_block.begin() - 1);
        for (int64_t b = b0; b < b1;) {
          while (b >= first_block[j + 1]) ++j;
          const MatmulJob& job = jobs[j];
          const int64_t end = std::min(b1, first_block[j + 1]);
          const int64_t r0 = (b - first_block[j]) * kRowBlock;
          const int64_t r1 = std::min(job.w->rows, (end - first_block[j]) * kRowBlock);
          rows_block(*job.w, r0, r1, job.x, job.n_tokens, job.y, prepared[j], scratch);
          b = end;
        }
      },
      /*grain=*/8);
}

void matmul(const Matrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  const MatmulJob job{&w, x, n_tokens, y};
  matmul_jobs({&job, 1}, pool);
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

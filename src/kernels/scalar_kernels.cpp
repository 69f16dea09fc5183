// The scalar kernel set (kernels/kernel_set.h): plain loops for every op the ISA files
// vectorise. They run on any x86-64 CPU (the fallback when AVX2 is missing) and are the
// reference the tests hold the AVX2 and AVX-512 bodies to. Same formulas, simplest order:
// sums run left to right in fp32 (the affine dot product in double, as reference::affine_dot).
#include "kernels/affine_dot.h"
#include "kernels/attention_blocks.h"
#include "kernels/delta_rule.h"
#include "kernels/dot.h"
#include "kernels/gemm_rows.h"
#include "tensor/dtype.h"

#include <cmath>
#include <limits>

namespace tessera {
namespace {
#include "kernels/delta_rule_body.inc"
}  // namespace

float dot_f32_scalar(const float* a, const float* b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void bf16_to_f32_row_scalar(const uint16_t* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(in[i]);
}

float row_dot_scalar(const void* row, bool bf16, const float* x, int64_t K) {
  float s = 0;
  if (bf16) {
    const auto* r = static_cast<const uint16_t*>(row);
    for (int64_t k = 0; k < K; ++k) s += bf16_to_f32(r[k]) * x[k];
  } else {
    const auto* r = static_cast<const float*>(row);
    for (int64_t k = 0; k < K; ++k) s += r[k] * x[k];
  }
  return s;
}

// Each (row, token) pair through row_dot_scalar, so decode and prefill agree bit for bit.
void gemm_rows_scalar(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                      int64_t ldy) {
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t i = 0; i < block.n_rows; ++i) y[t * ldy + i] = row_dot_scalar(block.rows[i], block.bf16, x + t * ldx, K);
}

// The same two-term int16 representation as the AVX2 body (kernels/affine_dot.h), computed one
// activation at a time: identical hi/lo terms and steps (the same operations, fma included).
void prepare_affine_activations_scalar(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out) {
  const int unit = affine_unpack_unit(group_size, bits);
  for (int64_t g = 0; g < cols / group_size; ++g) {
    const float* xg = x + g * group_size;
    int16_t* hi = out->xq.data() + g * group_size;
    int16_t* lo = hi + cols;
    float sum = 0, group_max = 0;
    for (int64_t c = 0; c < group_size; ++c) {
      sum += xg[c];
      group_max = std::fmax(group_max, std::fabs(xg[c]));
    }
    out->group_sums[g] = sum;
    if (!std::isfinite(sum) || !std::isfinite(group_max)) {  // a NaN or Inf must poison the output
      out->group_steps[g] = std::numeric_limits<float>::quiet_NaN();
      for (int64_t c = 0; c < group_size; ++c) hi[c] = lo[c] = 0;
      continue;
    }
    const float step = group_max / 32767.0f;
    const float inverse = group_max > 0 ? 32767.0f / group_max : 0.0f, lo_scale = inverse * 32768.0f;
    out->group_steps[g] = step;
    for (int64_t c = 0; c < group_size; ++c) {
      const float h = std::nearbyint(xg[c] * inverse);
      const float l = std::nearbyint(std::fma(-h, step, xg[c]) * lo_scale);
      const int64_t at = unit == 1 ? c : c - c % unit + affine_position_in_unit(c % unit, unit, bits);
      hi[at] = static_cast<int16_t>(h);
      lo[at] = static_cast<int16_t>(l);
    }
  }
}

void affine_dot_rows_scalar(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y,
                            int64_t y_stride) {
  const int64_t groups = rows.cols / rows.group_size;
  for (size_t t = 0; t < tokens.size(); ++t)
    for (int64_t r = 0; r < rows.n_rows; ++r)
      y[static_cast<int64_t>(t) * y_stride + r] = reference::affine_dot(
          rows.codes + r * rows.row_bytes(), param_row(rows.scales, r * groups, rows.bf16_params),
          param_row(rows.biases, r * groups, rows.bf16_params), rows.bf16_params, tokens[t], rows.cols,
          rows.group_size, rows.bits);
}

void attention_scores4_scalar(const float* q, const float* keys, int64_t stride, int64_t head_dim, float* out) {
  for (int b = 0; b < 4; ++b) out[b] = dot_f32_scalar(q, keys + b * stride, head_dim);
}

void attention_add_values_scalar(const float* p, int64_t n, const float* values, int64_t stride, int64_t head_dim,
                                 float* o) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t e = 0; e < head_dim; ++e) o[e] += p[b] * values[b * stride + e];
}

void delta_rule_recurrent_scalar(const DeltaRuleHead& h, int64_t n_tokens, float* state, float* scratch) {
  recurrent(h, n_tokens, state, scratch);
}

void delta_rule_chunked_scalar(const DeltaRuleHead& h, int64_t n_tokens, float* state, int64_t chunk,
                               float* scratch) {
  chunked<dot_f32_scalar>(h, n_tokens, state, chunk, scratch);
}

}  // namespace tessera

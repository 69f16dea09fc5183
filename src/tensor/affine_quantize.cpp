#include "tensor/affine_quantize.h"

#include "tensor/dtype.h"
#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace tessera {

namespace {

struct GroupAffine {
  float scale, bias;
};

// MLX's affine scale and bias for a group with extremes lo <= hi (mlx/ops.cpp affine_quantize, in
// float32 as MLX computes it): the step spans the range, signed so that the extreme of larger
// magnitude ("edge") is code 0, then adjusted so that edge is exactly code round(edge / scale):
// in float32 this makes 0.0 exactly representable. std::nearbyint rounds half to even, as MLX and NumPy do.
GroupAffine mlx_group_affine(float lo, float hi, float levels) {
  const bool min_is_edge = std::fabs(lo) > std::fabs(hi);
  float scale = std::max((hi - lo) / levels, 1e-7f);
  if (!min_is_edge) scale = -scale;
  const float edge = min_is_edge ? lo : hi;
  const float q0 = std::nearbyint(edge / scale);
  if (q0 == 0.0f) return {scale, 0.0f};
  return {edge / q0, edge};
}

// Rows [r0, r1) of src into q.
void quantize_rows(const Matrix& src, Matrix& q, int64_t r0, int64_t r1) {
  const int bits = q.bits, group_size = q.group_size;
  const int64_t groups = src.cols / group_size;
  const float levels = static_cast<float>((1 << bits) - 1);
  std::vector<float> row(static_cast<size_t>(src.cols));
  for (int64_t r = r0; r < r1; ++r) {
    if (src.format == WeightFormat::kF32) std::copy_n(src.f32_row(r), src.cols, row.begin());
    else
      for (int64_t c = 0; c < src.cols; ++c) row[c] = bf16_to_f32(src.bf16_row(r)[c]);
    uint8_t* out = q.data.data() + r * q.row_bytes;
    uint64_t window = 0;
    int window_bits = 0;
    for (int64_t g = 0; g < groups; ++g) {
      const float* w = row.data() + g * group_size;
      const auto [lo, hi] = std::minmax_element(w, w + group_size);
      const GroupAffine p = mlx_group_affine(*lo, *hi, levels);
      // Scale and bias are stored as bf16 (as MLX stores them for a bf16 model), and the codes
      // are chosen against the rounded values, so dequantization uses exactly what is stored.
      const uint16_t scale_bits = f32_to_bf16(p.scale), bias_bits = f32_to_bf16(p.bias);
      const double scale = bf16_to_f32(scale_bits), bias = bf16_to_f32(bias_bits);
      q.scales.bf16[r * groups + g] = scale_bits;
      q.biases.bf16[r * groups + g] = bias_bits;
      // Codes go into a 64-bit window that is flushed a byte at a time (LSB-first stream).
      for (int64_t c = 0; c < group_size; ++c) {
        // In double, as tools/mlx_quant.py computes it; a scale that rounded to 0 gives code 0.
        const double code = scale != 0 ? std::clamp(std::nearbyint((w[c] - bias) / scale), 0.0, double{levels}) : 0.0;
        window |= static_cast<uint64_t>(code) << window_bits;
        window_bits += bits;
        while (window_bits >= 8) {
          *out++ = static_cast<uint8_t>(window);
          window >>= 8;
          window_bits -= 8;
        }
      }
    }
  }
}

}  // namespace

Matrix quantize_affine(const Matrix& src, int bits, int group_size, ThreadPool* pool) {
  TS_CHECK(src.format != WeightFormat::kAffine && src.cols % group_size == 0, "quantize_affine needs a float matrix");
  Matrix q;
  q.format = WeightFormat::kAffine;
  q.rows = src.rows;
  q.cols = src.cols;
  q.bits = bits;
  q.group_size = group_size;
  q.row_bytes = src.cols * bits / 8;
  q.data = AlignedBuffer(static_cast<size_t>(q.rows * q.row_bytes));
  const int64_t groups = src.cols / group_size;
  q.scales.bf16.resize(static_cast<size_t>(q.rows * groups));
  q.biases.bf16.resize(static_cast<size_t>(q.rows * groups));
  if (pool) pool->parallel_for(q.rows, [&](int64_t r0, int64_t r1, int) { quantize_rows(src, q, r0, r1); }, /*grain=*/16);
  else quantize_rows(src, q, 0, q.rows);
  return q;
}

}  // namespace tessera

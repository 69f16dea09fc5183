// Load-time quantization (--quantize): every weight comes back within half a quantization step
// (plus the bf16 rounding of the stored scale and bias: 2^-9 relative each, allowed twice), or
// one step where MLX's zero-point adjustment leaves the far end of a group clipped,
// the packing is the MLX bit stream the affine kernels read, and the quantized matmul equals
// the float matmul of the dequantized weights.
#include "kernels/affine_codes.h"
#include "kernels/matmul.h"
#include "tensor/affine_quantize.h"
#include "tensor/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tessera {
namespace {

Matrix random_bf16(int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.05f);
  Matrix m;
  m.format = WeightFormat::kBF16;
  m.rows = rows;
  m.cols = cols;
  m.data = AlignedBuffer(static_cast<size_t>(rows * cols * 2));
  auto* p = reinterpret_cast<uint16_t*>(m.data.data());
  for (int64_t i = 0; i < rows * cols; ++i) p[i] = f32_to_bf16(normal(rng));
  return m;
}

TEST(AffineQuantize, RoundTripWithinHalfAStep) {
  std::mt19937 rng(7);
  for (int bits : {4, 6, 8}) {
    const Matrix w = random_bf16(9, 192, rng);
    const Matrix q = quantize_affine(w, bits, 64);
    ASSERT_TRUE(q.scales.is_bf16() && q.biases.is_bf16()) << "scales and biases are stored as bf16, as MLX does";
    std::vector<float> row(192);
    for (int64_t r = 0; r < w.rows; ++r) {
      reference::matrix_row_f32(q, r, row.data());
      for (int64_t c = 0; c < w.cols; ++c) {
        const float scale = q.scales[r * 3 + c / 64], bias = q.biases[r * 3 + c / 64];
        const float step = std::fabs(scale);
        const float rounding = std::ldexp(std::fabs(bias) + step * static_cast<float>((1 << bits) - 1), -8);
        const float code = (row[c] - bias) / scale;
        const bool clipped = code < 0.5f || code > static_cast<float>((1 << bits) - 1) - 0.5f;
        ASSERT_LE(std::fabs(row[c] - bf16_to_f32(w.bf16_row(r)[c])), step * (clipped ? 1.0f : 0.5f) + rounding + 1e-7f)
            << bits << " bits";
      }
    }
  }
}

TEST(AffineQuantize, QuantizedMatmulEqualsDequantizedFloat) {
  std::mt19937 rng(8);
  ThreadPool pool(2);
  for (int bits : {4, 6, 8}) {
    const Matrix q = quantize_affine(random_bf16(21, 128, rng), bits, 64);
    Matrix deq;
    deq.format = WeightFormat::kF32;
    deq.rows = q.rows;
    deq.cols = q.cols;
    deq.data = AlignedBuffer(static_cast<size_t>(q.rows * q.cols * 4));
    for (int64_t r = 0; r < q.rows; ++r) reference::matrix_row_f32(q, r, reinterpret_cast<float*>(deq.data.data()) + r * q.cols);
    std::normal_distribution<float> normal;
    for (int64_t tokens : {1, 7}) {
      std::vector<float> x(tokens * 128), a(tokens * 21), b(tokens * 21);
      for (auto& v : x) v = normal(rng);
      matmul(q, x.data(), tokens, a.data(), pool);
      matmul(deq, x.data(), tokens, b.data(), pool);
      for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << bits << " bits, " << tokens << " tokens";
    }
  }
}

}  // namespace
}  // namespace tessera

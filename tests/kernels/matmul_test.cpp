// Every matmul path (f32, bf16, MLX affine 2..8 bits, one token and many) against the plain-loop
// reference (double accumulation). Tolerance: fp32 summation over `cols` terms of size ≤ |w||x|,
// so 1e-5 relative to Σ|w·x| per output.
#include "kernels/affine_codes.h"
#include "kernels/affine_dot.h"
#include "kernels/kernel_set.h"
#include "kernels/gemm_rows.h"
#include "kernels/matmul.h"
#include "tensor/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace tessera {
namespace {

Matrix random_matrix(WeightFormat format, int64_t rows, int64_t cols, int bits, int group, std::mt19937& rng,
                     bool bf16_params = false) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Matrix m;
  m.format = format;
  m.rows = rows;
  m.cols = cols;
  if (format == WeightFormat::kAffine) {
    m.bits = bits;
    m.group_size = group;
    m.row_bytes = cols * bits / 8;
    m.data = AlignedBuffer(static_cast<size_t>(rows * m.row_bytes));
    for (size_t i = 0; i < m.data.size(); ++i) m.data.data()[i] = static_cast<uint8_t>(rng());
    for (int64_t i = 0; i < rows * (cols / group); ++i) {
      const float s = normal(rng) * 0.01f, b = normal(rng) * 0.1f;
      if (bf16_params) {
        m.scales.bf16.push_back(f32_to_bf16(s));
        m.biases.bf16.push_back(f32_to_bf16(b));
      } else {
        m.scales.f32.push_back(s);
        m.biases.f32.push_back(b);
      }
    }
  } else if (format == WeightFormat::kBF16) {
    m.data = AlignedBuffer(static_cast<size_t>(rows * cols * 2));
    auto* p = reinterpret_cast<uint16_t*>(m.data.data());
    for (int64_t i = 0; i < rows * cols; ++i) p[i] = f32_to_bf16(normal(rng));
  } else {
    m.data = AlignedBuffer(static_cast<size_t>(rows * cols * 4));
    auto* p = reinterpret_cast<float*>(m.data.data());
    for (int64_t i = 0; i < rows * cols; ++i) p[i] = normal(rng);
  }
  return m;
}

void expect_matches_reference(const Matrix& w, int64_t tokens, std::mt19937& rng, ThreadPool& pool) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(tokens * w.cols));
  for (float& v : x) v = normal(rng);
  std::vector<float> got(static_cast<size_t>(tokens * w.rows)), want(got.size()), row(static_cast<size_t>(w.cols));
  matmul(w, x.data(), tokens, got.data(), pool);
  reference::matmul(w, x.data(), tokens, want.data());
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t r = 0; r < w.rows; ++r) {
      reference::matrix_row_f32(w, r, row.data());
      double magnitude = 0;
      for (int64_t c = 0; c < w.cols; ++c) magnitude += std::fabs(row[c] * x[t * w.cols + c]);
      // Affine rows with few tokens use two-term int16 activations (kernels/affine_dot.h): add
      // the bound their representation allows, Σ_g step_g / 65536 · Σ_c |s_g q_c|.
      double int16_bound = 0;
      if (w.format == WeightFormat::kAffine) {
        AffineActivations a;
        prepare_affine_activations(x.data() + t * w.cols, w.cols, w.group_size, w.bits, &a);
        const int64_t groups = w.cols / w.group_size;
        for (int64_t c = 0; c < w.cols; ++c)
          int16_bound += a.group_steps[c / w.group_size] / 65536 * std::fabs(row[c] - w.biases[r * groups + c / w.group_size]);
      }
      ASSERT_NEAR(got[t * w.rows + r], want[t * w.rows + r], 1e-5 * magnitude + int16_bound + 1e-6)
          << "token " << t << " row " << r << " bits " << w.bits;
    }
}

TEST(Matmul, FloatFormatsMatchReference) {
  std::mt19937 rng(1);
  ThreadPool pool(2);
  for (WeightFormat f : {WeightFormat::kF32, WeightFormat::kBF16})
    for (int64_t tokens : {1, 3, 17}) {
      Matrix w = random_matrix(f, 37, 200, 0, 0, rng);
      expect_matches_reference(w, tokens, rng, pool);
    }
}

TEST(Matmul, AffineFormatsMatchReference) {
  std::mt19937 rng(2);
  ThreadPool pool(2);
  for (int bits : {2, 3, 4, 5, 6, 8})
    for (int group : {32, 64, 128})
      for (int64_t tokens : {1, 5, 17})
        for (bool bf16_params : {false, true}) {
          Matrix w = random_matrix(WeightFormat::kAffine, 13, 256, bits, group, rng, bf16_params);
          expect_matches_reference(w, tokens, rng, pool);
        }
}

// Batch invariance: up to 16 tokens (batched decode) each token's output is bit-identical to
// multiplying that token alone, in every format — a request's tokens must not depend on which
// other requests share its decode step.
TEST(Matmul, DecodeBatchesAreBitIdenticalToSingleTokens) {
  std::mt19937 rng(3);
  ThreadPool pool(2);
  std::normal_distribution<float> normal;
  const std::vector<Matrix> formats = [&] {
    std::vector<Matrix> m;
    m.push_back(random_matrix(WeightFormat::kF32, 70, 256, 0, 0, rng));
    m.push_back(random_matrix(WeightFormat::kBF16, 70, 256, 0, 0, rng));
    for (int bits : {4, 6, 8, 3}) m.push_back(random_matrix(WeightFormat::kAffine, 70, 256, bits, 64, rng, bits != 6));
    return m;
  }();
  for (const Matrix& w : formats)
    for (int64_t tokens : {2, 7, 16}) {
      std::vector<float> x(static_cast<size_t>(tokens * w.cols)), batch(static_cast<size_t>(tokens * w.rows));
      for (float& v : x) v = normal(rng);
      matmul(w, x.data(), tokens, batch.data(), pool);
      for (int64_t t = 0; t < tokens; ++t) {
        std::vector<float> alone(static_cast<size_t>(w.rows));
        matmul(w, x.data() + t * w.cols, 1, alone.data(), pool);
        for (int64_t r = 0; r < w.rows; ++r)
          ASSERT_EQ(batch[t * w.rows + r], alone[r]) << "format " << static_cast<int>(w.format) << " bits " << w.bits
                                                    << " tokens " << tokens << " token " << t << " row " << r;
      }
    }
}

// Every kernel set's prefill micro-kernel against a double-precision loop, for bf16 and
// fp32 rows, partial row blocks, token counts that are not multiples of the token group, and
// lengths with a scalar tail.
TEST(GemmRows, EveryIsaMatchesScalar) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal;
  for (int64_t K : {77, 64}) {
    std::vector<float> rows_f32(4 * K);
    std::vector<uint16_t> rows_bf16(4 * K);
    for (int64_t i = 0; i < 4 * K; ++i) {
      rows_bf16[i] = f32_to_bf16(normal(rng));
      rows_f32[i] = bf16_to_f32(rows_bf16[i]);
    }
    for (const KernelSet* set : runnable_kernel_sets()) {
      for (bool bf16 : {false, true})
        for (int64_t n_rows : {4, 3})
          for (int64_t tokens : {1, 3, 4, 13}) {
            RowBlock block{{}, n_rows, bf16};
            for (int i = 0; i < 4; ++i)
              block.rows[i] = bf16 ? static_cast<const void*>(rows_bf16.data() + i * K) : rows_f32.data() + i * K;
            std::vector<float> x(tokens * K), y(tokens * 6, -1.0f);
            for (auto& v : x) v = normal(rng);
            set->gemm_rows(block, K, x.data(), K, tokens, y.data(), 6);
            for (int64_t t = 0; t < tokens; ++t)
              for (int64_t i = 0; i < 6; ++i) {
                if (i >= n_rows) {
                  ASSERT_EQ(y[t * 6 + i], -1.0f) << "wrote past the block";
                  continue;
                }
                double want = 0;
                for (int64_t k = 0; k < K; ++k) want += static_cast<double>(rows_f32[i * K + k]) * x[t * K + k];
                ASSERT_NEAR(y[t * 6 + i], want, 1e-4) << set->name << " bf16=" << bf16 << " t=" << t;
                // The decode path sums the pair in the same order: bit-identical.
                ASSERT_EQ(y[t * 6 + i], set->row_dot(block.rows[i], bf16, x.data() + t * K, K)) << set->name;
              }
          }
    }
  }
}

// Codes hand-placed in a little-endian bit stream (spec §5.3): 6-bit code 5 occupies bits
// 30..35 and straddles the first two 32-bit words.
TEST(AffineCodes, SixBitCodesStraddleWords) {
  uint8_t row[12] = {};
  auto put = [&](int64_t c, uint32_t code) {
    for (int b = 0; b < 6; ++b)
      if (code >> b & 1) row[(c * 6 + b) / 8] |= static_cast<uint8_t>(1u << ((c * 6 + b) % 8));
  };
  for (int64_t c = 0; c < 16; ++c) put(c, static_cast<uint32_t>((c * 37 + 11) % 64));
  for (int64_t c = 0; c < 16; ++c) EXPECT_EQ(affine_code(row, 12, c, 6), static_cast<uint32_t>((c * 37 + 11) % 64)) << c;
  // Hand-built words: 6-bit code 5 = 0b101101 (45) occupies stream bits 30..35, i.e. bit 30 of
  // word 0 (its low bits 1, 0) and bits 0..3 of word 1 (its high bits 1, 1, 0, 1 → 0xB).
  const uint32_t words[3] = {0x40000000u, 0x0000000Bu, 0u};
  uint8_t bytes[12];
  std::memcpy(bytes, words, 12);
  for (int64_t c = 0; c < 16; ++c) EXPECT_EQ(affine_code(bytes, 12, c, 6), c == 5 ? 45u : 0u) << c;
}

}  // namespace
}  // namespace tessera

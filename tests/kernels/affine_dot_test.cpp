// The int16-activation affine dot product (kernels/affine_dot.h):
//  1. every ISA body equals the scalar reference over the same prepared activations — the
//     integer code sums are exact, so the only difference is fp32 rounding of per-group terms
//     (tolerance 1e-6 relative to Σ_g |terms|);
//  2. the result equals the float64 dot product of the dequantized row with the *unquantized*
//     activations within the bound the two-term int16 representation allows:
//     |Δx_c| ≤ step_g / 65536, so |error| ≤ Σ_g step_g / 65536 · Σ_c |s_g q_c|, plus fp32
//     rounding (1e-6 relative) — i.e. as accurate as an fp32 dot product;
//  3. the layout table places every code exactly once.
// Codes are random bytes, so every bit pattern (including codes straddling bytes) occurs.
#include "kernels/affine_codes.h"
#include "kernels/affine_dot.h"
#include "kernels/kernel_set.h"
#include "tensor/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace tessera {
namespace {

struct Row {
  std::vector<uint8_t> codes;
  std::vector<float> scales, biases;  // values exactly representable in bf16
  std::vector<uint16_t> scales_bf16, biases_bf16;
  // The kernels read either dtype; the values are the same, so results must be too.
  AffineRows rows(bool bf16, int64_t n_rows, int64_t cols, int group, int bits) const {
    return bf16 ? AffineRows{codes.data(), scales_bf16.data(), biases_bf16.data(), true, n_rows, cols, group, bits}
                : AffineRows{codes.data(), scales.data(), biases.data(), false, n_rows, cols, group, bits};
  }
};

Row random_row(int64_t cols, int group, int bits, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  Row r;
  r.codes.resize(static_cast<size_t>(cols * bits / 8));
  for (auto& b : r.codes) b = static_cast<uint8_t>(rng());
  for (int64_t g = 0; g < cols / group; ++g) {
    r.scales_bf16.push_back(f32_to_bf16(normal(rng) * 0.01f));
    r.biases_bf16.push_back(f32_to_bf16(normal(rng) * 0.1f));
    r.scales.push_back(bf16_to_f32(r.scales_bf16.back()));
    r.biases.push_back(bf16_to_f32(r.biases_bf16.back()));
  }
  return r;
}

std::vector<float> random_activations(int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(cols));
  for (auto& v : x) v = normal(rng);
  // An outlier channel and an all-zero group, as real activations have.
  x[3] = 40.0f;
  if (cols >= 128)
    for (int64_t c = 64; c < 96; ++c) x[c] = 0.0f;
  return x;
}

using Body = void (*)(const AffineRows&, std::span<const AffineActivations>, float*, int64_t);

float one_row(Body body, const Row& row, const AffineActivations& a, int64_t cols, int group, int bits,
              bool bf16 = false) {
  float y = 0;
  body(row.rows(bf16, 1, cols, group, bits), {&a, 1}, &y, 0);
  return y;
}

TEST(AffineDot, EveryIsaBodyMatchesScalarOverSamePreparedActivations) {
  std::mt19937 rng(11);
  for (int bits : {2, 3, 4, 5, 6, 7, 8})
    for (int group : {32, 64, 128})
      for (int64_t cols : {int64_t{group}, int64_t{256}, int64_t{1024}}) {
        if (cols % group) continue;
        const Row row = random_row(cols, group, bits, rng);
        const std::vector<float> x = random_activations(cols, rng);
        AffineActivations a;
        prepare_affine_activations(x.data(), cols, group, bits, &a);
        const float want =
            reference::affine_dot(row.codes.data(), row.scales.data(), row.biases.data(), false, a, cols, group, bits);
        double magnitude = 0;
        for (int64_t g = 0; g < cols / group; ++g)
          magnitude += std::fabs(row.biases[g] * a.group_sums[g]) + std::fabs(row.scales[g] * a.group_steps[g]) * 32767.0 * 255 * group;
        for (const KernelSet* set : runnable_kernel_sets())
          for (bool bf16 : {false, true}) {
            const float got = one_row(set->affine_dot_rows, row, a, cols, group, bits, bf16);
            ASSERT_NEAR(got, want, 1e-6 * magnitude)
                << set->name << " bits " << bits << " group " << group << " cols " << cols << " bf16 params " << bf16;
          }
      }
}

// Several rows in one call: each body must advance codes, scales and biases row by row.
TEST(AffineDot, RowRangesMatchPerRowReference) {
  std::mt19937 rng(14);
  for (int bits : {4, 6, 8, 3})
    for (int group : {32, 64, 128}) {
      const int64_t cols = 384, n_rows = 5;
      Row all;
      std::vector<Row> rows;
      for (int64_t r = 0; r < n_rows; ++r) {
        rows.push_back(random_row(cols, group, bits, rng));
        all.codes.insert(all.codes.end(), rows.back().codes.begin(), rows.back().codes.end());
        all.scales.insert(all.scales.end(), rows.back().scales.begin(), rows.back().scales.end());
        all.biases.insert(all.biases.end(), rows.back().biases.begin(), rows.back().biases.end());
        all.scales_bf16.insert(all.scales_bf16.end(), rows.back().scales_bf16.begin(), rows.back().scales_bf16.end());
        all.biases_bf16.insert(all.biases_bf16.end(), rows.back().biases_bf16.begin(), rows.back().biases_bf16.end());
      }
      const std::vector<float> x = random_activations(cols, rng);
      AffineActivations a;
      prepare_affine_activations(x.data(), cols, group, bits, &a);
      for (const KernelSet* set : runnable_kernel_sets())
        for (bool bf16 : {false, true}) {
        const char* name = set->name;
        std::vector<float> y(n_rows + 1, -7.0f);
        set->affine_dot_rows(all.rows(bf16, n_rows, cols, group, bits), {&a, 1}, y.data(), 0);
        for (int64_t r = 0; r < n_rows; ++r) {
          const Row& one = rows[r];
          const float want =
              reference::affine_dot(one.codes.data(), one.scales.data(), one.biases.data(), false, a, cols, group, bits);
          EXPECT_NEAR(y[r], want, 1e-5 * (std::fabs(want) + 1)) << name << " bits " << bits << " group " << group << " row " << r;
        }
        EXPECT_EQ(y[n_rows], -7.0f) << name << " wrote past the last row";
        }
    }
}

TEST(AffineDot, MatchesFloatDotToFp32Accuracy) {
  std::mt19937 rng(12);
  for (int bits : {2, 3, 4, 5, 6, 8})
    for (int group : {32, 64, 128}) {
      const int64_t cols = 512;
      const Row row = random_row(cols, group, bits, rng);
      const std::vector<float> x = random_activations(cols, rng);
      AffineActivations a;
      prepare_affine_activations(x.data(), cols, group, bits, &a);
      double exact = 0, bound = 0, magnitude = 0;
      for (int64_t g = 0; g < cols / group; ++g) {
        double code_weight = 0;
        for (int64_t c = g * group; c < (g + 1) * group; ++c) {
          const double q = affine_code(row.codes.data(), static_cast<int64_t>(row.codes.size()), c, bits);
          const double w = static_cast<double>(row.scales[g]) * q + row.biases[g];
          exact += w * x[c];
          magnitude += std::fabs(w * x[c]);
          code_weight += std::fabs(row.scales[g] * q);
        }
        bound += a.group_steps[g] / 65536 * code_weight;
      }
      const float got = one_row(affine_dot_rows, row, a, cols, group, bits);
      EXPECT_NEAR(got, exact, bound + 1e-6 * magnitude) << "bits " << bits << " group " << group;
      // The representation error is below fp32 rounding of the sum itself.
      EXPECT_LT(bound, 1e-6 * magnitude);
    }
}

// The prepared form itself: every activation is recovered from its two int16 terms to within
// step/65536 (+ fp32 rounding), the hi term alone only to step/2 — the gap the lo term closes.
TEST(AffineDot, PreparedActivationsRepresentEachValue) {
  std::mt19937 rng(15);
  for (int bits : {3, 4, 6, 8})
    for (int group : {32, 64}) {
      const int64_t cols = 256;
      const std::vector<float> x = random_activations(cols, rng);
      AffineActivations a;
      prepare_affine_activations(x.data(), cols, group, bits, &a);
      double worst_hi_only = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t at = affine_unpack_position(c, group, bits);
        const double step = a.group_steps[c / group];
        const double hi = a.xq[at], lo = a.xq[cols + at];
        ASSERT_NEAR(step * (hi + lo / 32768.0), x[c], step / 65536 + 1e-7 * std::fabs(x[c])) << "bits " << bits << " c " << c;
        if (step > 0) worst_hi_only = std::max(worst_hi_only, std::fabs(step * hi - x[c]) / step);
      }
      EXPECT_GT(worst_hi_only, 0.1) << "the lo term carries real information";
      EXPECT_LE(worst_hi_only, 0.5 + 1e-3);
    }
}

TEST(AffineDot, NonFiniteActivationPoisonsTheResult) {
  std::mt19937 rng(13);
  const Row row = random_row(128, 64, 4, rng);
  std::vector<float> x = random_activations(128, rng);
  x[70] = NAN;
  AffineActivations a;
  prepare_affine_activations(x.data(), 128, 64, 4, &a);
  EXPECT_TRUE(std::isnan(one_row(affine_dot_rows, row, a, 128, 64, 4)));
}

TEST(AffineDot, UnpackPositionsArePermutations) {
  for (int bits = 2; bits <= 8; ++bits)
    for (int group : {32, 64, 128}) {
      std::set<int64_t> seen;
      for (int64_t c = 0; c < 256; ++c) {
        const int64_t p = affine_unpack_position(c, group, bits);
        ASSERT_EQ(p / group, c / group) << "a code left its group: bits " << bits;
        seen.insert(p);
      }
      EXPECT_EQ(seen.size(), 256u) << "bits " << bits << " group " << group;
    }
}

}  // namespace
}  // namespace tessera

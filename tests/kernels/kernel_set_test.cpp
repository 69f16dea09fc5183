// Every kernel set this CPU can run against the scalar set (kernels/kernel_set.h), op by op, on
// the same inputs: conversions and the int16 activation terms exactly (same operations), sums
// within fp32 rounding of their length (1e-5 relative to Σ|terms|). And TESSERA_ISA picks the
// set the environment names (CTest runs test_kernels again with scalar and avx2 forced).
#include "kernels/attention_blocks.h"
#include "kernels/delta_rule.h"
#include "kernels/kernel_set.h"
#include "tensor/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace tessera {
namespace {

std::vector<float> normal_values(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng) * scale;
  return v;
}

double abs_dot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(a[i]) * b[i]);
  return s;
}

TEST(KernelSet, ScalarComesFirstAndTheActiveSetIsRunnable) {
  const auto sets = runnable_kernel_sets();
  ASSERT_FALSE(sets.empty());
  EXPECT_STREQ(sets[0]->name, "scalar");
  bool found = false;
  for (const KernelSet* s : sets) found |= s == &kernels();
  EXPECT_TRUE(found) << kernels().name;
  if (const char* forced = std::getenv("TESSERA_ISA"); forced && *forced) {
    EXPECT_EQ(std::string(kernels().name), forced);
  } else {
    EXPECT_EQ(&kernels(), sets.back()) << "without TESSERA_ISA the best set runs";
    EXPECT_EQ(describe_kernels(), std::string(kernels().name) + " (the best this CPU runs)");
  }
  EXPECT_EQ(describe_kernels().rfind(kernels().name, 0), 0U) << describe_kernels();
}

TEST(KernelSet, DotAndBf16ConversionMatchScalar) {
  std::mt19937 rng(21);
  for (int64_t n : {1, 7, 16, 33, 200}) {
    const std::vector<float> a = normal_values(n, rng), b = normal_values(n, rng);
    std::vector<uint16_t> h(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(a[i]);
    const float want = scalar_kernels().dot_f32(a.data(), b.data(), n);
    for (const KernelSet* set : runnable_kernel_sets()) {
      EXPECT_NEAR(set->dot_f32(a.data(), b.data(), n), want, 1e-5 * abs_dot(a.data(), b.data(), n)) << set->name;
      std::vector<float> out(static_cast<size_t>(n), -1.0f);
      set->bf16_to_f32_row(h.data(), out.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], bf16_to_f32(h[i])) << set->name << " " << i;
    }
  }
}

TEST(KernelSet, AffineActivationTermsAreIdenticalAcrossSets) {
  std::mt19937 rng(22);
  for (int bits : {3, 4, 6, 8})
    for (int group : {32, 64, 128}) {
      const int64_t cols = 256;
      std::vector<float> x = normal_values(cols, rng);
      x[5] = 40.0f;                                             // an outlier channel
      for (int64_t c = 128; c < 160; ++c) x[c] = 0.0f;          // an all-zero stretch
      AffineActivations want;
      want.group_sums.resize(cols / group);
      want.group_steps.resize(cols / group);
      want.xq.resize(2 * cols);
      scalar_kernels().prepare_affine_activations(x.data(), cols, group, bits, &want);
      for (const KernelSet* set : runnable_kernel_sets()) {
        AffineActivations got = want;
        std::fill(got.xq.begin(), got.xq.end(), int16_t{-1});
        set->prepare_affine_activations(x.data(), cols, group, bits, &got);
        EXPECT_EQ(got.xq, want.xq) << set->name << " bits " << bits << " group " << group;
        EXPECT_EQ(got.group_steps, want.group_steps) << set->name;
        // Sums of at most 128 terms of |x| <= 40 (|sum| < 200): fp32 reordering moves them by far
        // less than 5e-4.
        for (int64_t g = 0; g < cols / group; ++g)
          EXPECT_NEAR(got.group_sums[g], want.group_sums[g], 5e-4) << set->name << " group " << g;
      }
    }
}

TEST(KernelSet, AttentionBlocksMatchScalar) {
  std::mt19937 rng(23);
  for (int64_t head_dim : {32, 64, 80, 128, 256}) {
    const int64_t stride = head_dim + 16;
    const std::vector<float> q = normal_values(head_dim, rng), keys = normal_values(4 * stride, rng);
    float want[4];
    scalar_kernels().attention_scores4(q.data(), keys.data(), stride, head_dim, want);
    const std::vector<float> p = normal_values(16, rng), values = normal_values(16 * stride, rng);
    std::vector<float> o_want = normal_values(head_dim, rng);
    const std::vector<float> o_start = o_want;
    scalar_kernels().attention_add_values(p.data(), 13, values.data(), stride, head_dim, o_want.data());
    for (const KernelSet* set : runnable_kernel_sets()) {
      float got[4];
      set->attention_scores4(q.data(), keys.data(), stride, head_dim, got);
      for (int b = 0; b < 4; ++b)
        EXPECT_NEAR(got[b], want[b], 1e-5 * abs_dot(q.data(), keys.data() + b * stride, head_dim)) << set->name;
      std::vector<float> o = o_start;
      set->attention_add_values(p.data(), 13, values.data(), stride, head_dim, o.data());
      for (int64_t e = 0; e < head_dim; ++e) EXPECT_NEAR(o[e], o_want[e], 1e-5 * 16 * 4) << set->name << " dim " << e;
    }
  }
}

// Both forms of the delta rule, every set against the scalar set: outputs and final state.
TEST(KernelSet, DeltaRuleMatchesScalar) {
  std::mt19937 rng(24);
  const int64_t dk = 32, dv = 48, T = 70, chunk = 64;
  std::vector<float> q = normal_values(T * dk, rng, 0.2f), k = normal_values(T * dk, rng, 0.2f),
                     v = normal_values(T * dv, rng), g = normal_values(T, rng, 0.1f), beta(T);
  for (int64_t t = 0; t < T; ++t) {
    g[t] = -std::fabs(g[t]);
    beta[t] = 0.3f + 0.5f * static_cast<float>(t % 7) / 7.0f;
  }
  const auto run = [&](const KernelSet& set, bool chunked, std::vector<float>& out, std::vector<float>& S) {
    out.assign(static_cast<size_t>(T * dv), 0.0f);
    S.assign(static_cast<size_t>(dk * dv), 0.0f);
    const DeltaRuleHead h{q.data(), dk, k.data(), dk, v.data(), dv, g.data(), beta.data(), 1, out.data(), dv, dk, dv};
    std::vector<float> scratch(static_cast<size_t>(chunk * (1 + chunk + dv + dk) + dv));
    if (chunked) set.delta_rule_chunked(h, T, S.data(), chunk, scratch.data());
    else set.delta_rule_recurrent(h, T, S.data(), scratch.data());
  };
  for (bool chunked : {false, true}) {
    std::vector<float> want_out, want_S;
    run(scalar_kernels(), chunked, want_out, want_S);
    for (const KernelSet* set : runnable_kernel_sets()) {
      std::vector<float> out, S;
      run(*set, chunked, out, S);
      for (size_t i = 0; i < out.size(); ++i)
        ASSERT_NEAR(out[i], want_out[i], 1e-4 * (1 + std::fabs(want_out[i]))) << set->name << " chunked " << chunked;
      for (size_t i = 0; i < S.size(); ++i)
        ASSERT_NEAR(S[i], want_S[i], 1e-4 * (1 + std::fabs(want_S[i]))) << set->name << " chunked " << chunked;
    }
  }
}

}  // namespace
}  // namespace tessera

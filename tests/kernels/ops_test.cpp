// Small ops against literal formulas: conv1d state chaining, attention softmax, RoPE pairing.
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/conv1d.h"
#include "kernels/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tessera {
namespace {

// Running a sequence through the causal conv in pieces (prefill then single tokens, and a
// prompt shorter than K-1) gives the same output as one pass (spec pitfall 25).
TEST(Conv1d, ChainedCallsEqualOnePass) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  const int64_t K = 4, C = 7, T = 11;
  std::vector<float> w(C * K), x(T * C);
  for (auto& v : w) v = normal(rng);
  for (auto& v : x) v = normal(rng);
  std::vector<float> state((K - 1) * C, 0.0f), one(T * C);
  causal_conv1d_silu(w.data(), K, state.data(), x.data(), T, C, one.data());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) {
      float acc = 0;
      for (int64_t j = 0; j < K; ++j) {
        const int64_t src = t - (K - 1) + j;
        if (src >= 0) acc += w[c * K + j] * x[src * C + c];
      }
      ASSERT_NEAR(one[t * C + c], silu(acc), 1e-5);
    }
  std::vector<float> state2((K - 1) * C, 0.0f), pieces(T * C);
  const int64_t splits[] = {0, 2, 3, 8, 9, 10, 11};
  for (size_t i = 0; i + 1 < std::size(splits); ++i)
    causal_conv1d_silu(w.data(), K, state2.data(), x.data() + splits[i] * C, splits[i + 1] - splits[i], C,
                       pieces.data() + splits[i] * C);
  for (int64_t i = 0; i < T * C; ++i) ASSERT_NEAR(one[i], pieces[i], 1e-6);
}

// The online softmax rescales its running sums whenever a larger score appears; scale 20 makes
// the scores span hundreds so a missed rescale would overflow or misweight. Head sizes 8 (scalar
// tails only) and 75 (the 64-wide register path plus an 8-wide step and a scalar tail); 37 keys
// leave partial blocks of 4 and 16.
TEST(Attention, MatchesSoftmaxFormula) {
  std::mt19937 rng(6);
  std::normal_distribution<float> normal;
  for (int64_t hd : {8, 75}) {
    for (float scale : {0.5f, 20.0f}) {
      const int64_t n = 37, stride = hd + 16;
      std::vector<float> q(hd), keys(n * stride), values(n * stride), out(hd);
      for (auto& v : q) v = normal(rng);
      for (auto& v : keys) v = normal(rng);
      for (auto& v : values) v = normal(rng);
      attend(q.data(), keys.data(), values.data(), stride, n, hd, scale, out.data());
      std::vector<double> s(n);
      double m = -1e300, sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        double d = 0;
        for (int64_t e = 0; e < hd; ++e) d += q[e] * keys[j * stride + e];
        s[j] = scale * d;
        m = std::max(m, s[j]);
      }
      for (int64_t j = 0; j < n; ++j) sum += std::exp(s[j] - m);
      for (int64_t e = 0; e < hd; ++e) {
        double want = 0;
        for (int64_t j = 0; j < n; ++j) want += std::exp(s[j] - m) / sum * values[j * stride + e];
        EXPECT_NEAR(out[e], want, 1e-4) << "scale " << scale << " head_dim " << hd;
      }
    }
  }
}

// GQA: the query heads of one KV head attend together in one pass over the cache; each head's
// output must be bit-identical to attending alone (same operations, same order).
TEST(Attention, GroupOfHeadsEqualsEachHeadAlone) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const int64_t hd = 16, n = 50, stride = 40, heads = 5;
  std::vector<float> q(heads * hd), keys(n * stride), values(n * stride), together(heads * hd), alone(hd);
  for (auto& v : q) v = normal(rng);
  for (auto& v : keys) v = normal(rng) * 3;
  for (auto& v : values) v = normal(rng);
  std::vector<const float*> qp;
  std::vector<float*> op;
  for (int64_t i = 0; i < heads; ++i) {
    qp.push_back(q.data() + i * hd);
    op.push_back(together.data() + i * hd);
  }
  attend_group(qp.data(), heads, keys.data(), values.data(), stride, n, hd, 0.25f, op.data());
  for (int64_t i = 0; i < heads; ++i) {
    attend(q.data() + i * hd, keys.data(), values.data(), stride, n, hd, 0.25f, alone.data());
    for (int64_t e = 0; e < hd; ++e) ASSERT_EQ(together[i * hd + e], alone[e]) << "head " << i << " dim " << e;
  }
}

TEST(Rope, RotatesHalvesOfTheRotaryDims) {
  const int64_t hd = 8, rot = 4;
  Rope rope(rot, 10000.0);
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  rope.apply(x.data(), 1, hd, 3);
  for (int64_t j = 0; j < rot / 2; ++j) {
    const double angle = 3.0 / std::pow(10000.0, 2.0 * j / rot);
    const double a = j + 1, b = j + 1 + rot / 2;
    EXPECT_NEAR(x[j], a * std::cos(angle) - b * std::sin(angle), 1e-5);
    EXPECT_NEAR(x[j + rot / 2], b * std::cos(angle) + a * std::sin(angle), 1e-5);
  }
  for (int64_t j = rot; j < hd; ++j) EXPECT_EQ(x[j], j + 1);  // pass-through dims
}

}  // namespace
}  // namespace tessera

// The chunked gated delta rule (prefill) must equal the token-by-token recurrence (decode), for
// lengths around the chunk size and with a non-zero incoming state (spec §10.1). Tolerance:
// 1e-4 relative to the largest output, fp32 rounding over up to 500 decayed updates.
#include "kernels/delta_rule.h"
#include "kernels/norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tessera {
namespace {

struct Inputs {
  int64_t dk = 16, dv = 24;
  std::vector<float> q, k, v, g, beta, state;
};

Inputs make_inputs(int64_t T, bool nonzero_state, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uni(0.0f, 1.0f);
  Inputs in;
  in.q.resize(T * in.dk);
  in.k.resize(T * in.dk);
  in.v.resize(T * in.dv);
  for (auto& x : in.q) x = normal(rng);
  for (auto& x : in.k) x = normal(rng);
  for (auto& x : in.v) x = normal(rng);
  for (int64_t t = 0; t < T; ++t) {
    l2_norm(in.q.data() + t * in.dk, in.dk, 1e-6f);
    l2_norm(in.k.data() + t * in.dk, in.dk, 1e-6f);
    for (int64_t i = 0; i < in.dk; ++i) in.q[t * in.dk + i] /= std::sqrt(static_cast<float>(in.dk));
    in.g.push_back(-uni(rng) * 0.5f);
    in.beta.push_back(uni(rng));
  }
  in.state.assign(in.dk * in.dv, 0.0f);
  if (nonzero_state)
    for (auto& x : in.state) x = normal(rng) * 0.3f;
  return in;
}

TEST(DeltaRule, ChunkedEqualsRecurrent) {
  std::mt19937 rng(3);
  for (int64_t T : {1, 3, 63, 64, 65, 130, 500})
    for (bool nonzero : {false, true}) {
      Inputs in = make_inputs(T, nonzero, rng);
      std::vector<float> o1(T * in.dv), o2(T * in.dv), s1 = in.state, s2 = in.state;
      DeltaRuleHead h{in.q.data(), in.dk, in.k.data(), in.dk, in.v.data(), in.dv, in.g.data(), in.beta.data(), 1,
                      o1.data(), in.dv, in.dk, in.dv};
      delta_rule_recurrent(h, T, s1.data());
      h.o = o2.data();
      delta_rule_chunked(h, T, s2.data(), 64);
      float scale = 0;
      for (float x : o1) scale = std::max(scale, std::fabs(x));
      for (size_t i = 0; i < o1.size(); ++i) ASSERT_NEAR(o1[i], o2[i], 1e-4 * scale) << "T=" << T << " i=" << i;
      float sscale = 0;
      for (float x : s1) sscale = std::max(sscale, std::fabs(x));
      for (size_t i = 0; i < s1.size(); ++i) ASSERT_NEAR(s1[i], s2[i], 1e-4 * sscale) << "state T=" << T;
    }
}

// The recurrence written out literally as spec §3.5.5 (decay, read, delta, write, read) for one
// token, to pin down the order of operations of the fused implementation.
TEST(DeltaRule, RecurrentFollowsSpecOrder) {
  std::mt19937 rng(4);
  Inputs in = make_inputs(1, true, rng);
  std::vector<float> S = in.state, o(in.dv), fused_state = in.state;
  const float alpha = std::exp(in.g[0]), beta = in.beta[0];
  for (auto& x : S) x *= alpha;
  std::vector<float> kv(in.dv, 0.0f), want(in.dv, 0.0f);
  for (int64_t i = 0; i < in.dk; ++i)
    for (int64_t e = 0; e < in.dv; ++e) kv[e] += S[i * in.dv + e] * in.k[i];
  for (int64_t i = 0; i < in.dk; ++i)
    for (int64_t e = 0; e < in.dv; ++e) S[i * in.dv + e] += in.k[i] * beta * (in.v[e] - kv[e]);
  for (int64_t i = 0; i < in.dk; ++i)
    for (int64_t e = 0; e < in.dv; ++e) want[e] += S[i * in.dv + e] * in.q[i];
  DeltaRuleHead h{in.q.data(), in.dk, in.k.data(), in.dk, in.v.data(), in.dv, in.g.data(), in.beta.data(), 1,
                  o.data(), in.dv, in.dk, in.dv};
  delta_rule_recurrent(h, 1, fused_state.data());
  for (int64_t e = 0; e < in.dv; ++e) EXPECT_NEAR(o[e], want[e], 1e-5);
  for (size_t i = 0; i < S.size(); ++i) EXPECT_NEAR(fused_state[i], S[i], 1e-5);
}

}  // namespace
}  // namespace tessera

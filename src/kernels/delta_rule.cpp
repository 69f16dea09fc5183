#include "kernels/delta_rule.h"

#include "kernels/dot.h"  // the k·k and q·k products: plain float loops would not vectorise (no reassociation)

#include <algorithm>
#include <cmath>
#include <vector>

namespace tessera {

void delta_rule_recurrent(const DeltaRuleHead& h, int64_t n_tokens, float* S) {
  const int64_t dk = h.dk, dv = h.dv;
  std::vector<float> kv(static_cast<size_t>(dv)), qs(static_cast<size_t>(dv));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* q = h.q + t * h.q_stride;
    const float* k = h.k + t * h.k_stride;
    const float* v = h.v + t * h.v_stride;
    const float alpha = std::exp(h.g[t * h.gate_stride]);
    const float beta = h.beta[t * h.gate_stride];
    // One read pass over the old state gives both Sᵀk and Sᵀq; with S' = αS + k⊗δ,
    // S'ᵀq = α Sᵀq + δ (k·q), so the update and the output share a single write pass.
    std::fill(kv.begin(), kv.end(), 0.0f);
    std::fill(qs.begin(), qs.end(), 0.0f);
    float kq = 0;
    for (int64_t i = 0; i < dk; ++i) {
      const float* row = S + i * dv;
      const float ki = k[i], qi = q[i];
      kq += ki * qi;
      for (int64_t e = 0; e < dv; ++e) {
        kv[e] += row[e] * ki;
        qs[e] += row[e] * qi;
      }
    }
    float* o = h.o + t * h.o_stride;
    for (int64_t e = 0; e < dv; ++e) {
      const float delta = beta * (v[e] - alpha * kv[e]);
      kv[e] = delta;
      o[e] = alpha * qs[e] + delta * kq;
    }
    for (int64_t i = 0; i < dk; ++i) {
      float* row = S + i * dv;
      const float ki = k[i];
      for (int64_t e = 0; e < dv; ++e) row[e] = alpha * row[e] + ki * kv[e];
    }
  }
}

void delta_rule_chunked(const DeltaRuleHead& h, int64_t n_tokens, float* S, int64_t chunk) {
  const int64_t dk = h.dk, dv = h.dv;
  std::vector<float> gamma(chunk), A(chunk * chunk), U(chunk * dv), W(chunk * dk), kk(chunk * chunk);
  std::vector<float> out_row(dv);
  for (int64_t c0 = 0; c0 < n_tokens; c0 += chunk) {
    const int64_t L = std::min(chunk, n_tokens - c0);
    auto q = [&](int64_t i) { return h.q + (c0 + i) * h.q_stride; };
    auto k = [&](int64_t i) { return h.k + (c0 + i) * h.k_stride; };
    auto v = [&](int64_t i) { return h.v + (c0 + i) * h.v_stride; };
    auto beta = [&](int64_t i) { return h.beta[(c0 + i) * h.gate_stride]; };
    float acc = 0;
    for (int64_t i = 0; i < L; ++i) gamma[i] = acc += h.g[(c0 + i) * h.gate_stride];
    // A[i,j] = β_i (k_i·k_j) exp(γ_i − γ_j), j < i. Only differences γ_i − γ_j ≤ 0 are exponentiated.
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = 0; j < i; ++j) A[i * chunk + j] = beta(i) * dot_f32(k(i), k(j), dk) * std::exp(gamma[i] - gamma[j]);
    // Forward substitution with the unit lower-triangular (I + A):
    //   U_i = β_i v_i − Σ_{j<i} A_ij U_j ;  W_i = β_i Γ_i k_i − Σ_{j<i} A_ij W_j
    for (int64_t i = 0; i < L; ++i) {
      float* u = U.data() + i * dv;
      float* w = W.data() + i * dk;
      const float gi = std::exp(gamma[i]);
      for (int64_t e = 0; e < dv; ++e) u[e] = beta(i) * v(i)[e];
      for (int64_t e = 0; e < dk; ++e) w[e] = beta(i) * gi * k(i)[e];
      for (int64_t j = 0; j < i; ++j) {
        const float a = A[i * chunk + j];
        const float* uj = U.data() + j * dv;
        const float* wj = W.data() + j * dk;
        for (int64_t e = 0; e < dv; ++e) u[e] -= a * uj[e];
        for (int64_t e = 0; e < dk; ++e) w[e] -= a * wj[e];
      }
    }
    // V' = U − W S0 (stored back into U).
    for (int64_t i = 0; i < L; ++i) {
      float* u = U.data() + i * dv;
      const float* w = W.data() + i * dk;
      for (int64_t r = 0; r < dk; ++r) {
        const float wr = w[r];
        const float* srow = S + r * dv;
        for (int64_t e = 0; e < dv; ++e) u[e] -= wr * srow[e];
      }
    }
    // O_i = Γ_i q_i S0 + Σ_{j≤i} (q_i·k_j) exp(γ_i − γ_j) V'_j
    for (int64_t i = 0; i < L; ++i) {
      std::fill(out_row.begin(), out_row.end(), 0.0f);
      const float gi = std::exp(gamma[i]);
      for (int64_t r = 0; r < dk; ++r) {
        const float qr = q(i)[r] * gi;
        const float* srow = S + r * dv;
        for (int64_t e = 0; e < dv; ++e) out_row[e] += qr * srow[e];
      }
      for (int64_t j = 0; j <= i; ++j) {
        const float d = dot_f32(q(i), k(j), dk) * std::exp(gamma[i] - gamma[j]);
        const float* u = U.data() + j * dv;
        for (int64_t e = 0; e < dv; ++e) out_row[e] += d * u[e];
      }
      std::copy(out_row.begin(), out_row.end(), h.o + (c0 + i) * h.o_stride);
    }
    // S_next = Γ_L S0 + Σ_j exp(γ_L − γ_j) k_j ⊗ V'_j
    const float gl = std::exp(gamma[L - 1]);
    for (int64_t r = 0; r < dk * dv; ++r) S[r] *= gl;
    for (int64_t j = 0; j < L; ++j) {
      const float decay = std::exp(gamma[L - 1] - gamma[j]);
      const float* u = U.data() + j * dv;
      for (int64_t r = 0; r < dk; ++r) {
        const float kr = k(j)[r] * decay;
        float* srow = S + r * dv;
        for (int64_t e = 0; e < dv; ++e) srow[e] += kr * u[e];
      }
    }
  }
}

}  // namespace tessera

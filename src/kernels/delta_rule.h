// Gated delta rule for one value head (spec §3.5.5–3.5.6). State S: [dk, dv] fp32, row-major.
// Per token t: S = α_t S; S += k_t ⊗ β_t (v_t − Sᵀk_t); o_t = Sᵀ q_t (with the updated S).
// q is already L2-normalised and scaled by dk^-0.5, k L2-normalised, α_t = exp(g_t).
// Strides are in floats between consecutive tokens' rows.
#pragma once

#include <cstdint>

namespace tessera {

struct DeltaRuleHead {
  const float* q; int64_t q_stride;
  const float* k; int64_t k_stride;
  const float* v; int64_t v_stride;
  const float* g; const float* beta; int64_t gate_stride;  // log-decay g_t and β_t
  float* o; int64_t o_stride;
  int64_t dk, dv;
};

// Token-by-token recurrence (decode, and the reference for the chunked form).
void delta_rule_recurrent(const DeltaRuleHead& h, int64_t n_tokens, float* state);
// Chunked form (prefill): same outputs and final state up to fp32 rounding.
void delta_rule_chunked(const DeltaRuleHead& h, int64_t n_tokens, float* state, int64_t chunk = 64);

// The ISA bodies (the kernel sets hold them), with caller-provided scratch: 2·dv floats for the
// recurrence, chunk·(1 + chunk + dv + dk) + dv for the chunked form.
void delta_rule_recurrent_scalar(const DeltaRuleHead& h, int64_t n_tokens, float* state, float* scratch);
void delta_rule_recurrent_avx2(const DeltaRuleHead& h, int64_t n_tokens, float* state, float* scratch);
void delta_rule_chunked_scalar(const DeltaRuleHead& h, int64_t n_tokens, float* state, int64_t chunk, float* scratch);
void delta_rule_chunked_avx2(const DeltaRuleHead& h, int64_t n_tokens, float* state, int64_t chunk, float* scratch);

}  // namespace tessera

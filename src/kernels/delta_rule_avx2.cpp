// AVX2 + FMA build of the gated delta rule (kernels/delta_rule_body.inc).
#include "kernels/delta_rule.h"
#include "kernels/dot.h"

#include <cmath>

namespace tessera {
namespace {
#include "kernels/delta_rule_body.inc"
}  // namespace

void delta_rule_recurrent_avx2(const DeltaRuleHead& h, int64_t n_tokens, float* state, float* scratch) {
  recurrent(h, n_tokens, state, scratch);
}

void delta_rule_chunked_avx2(const DeltaRuleHead& h, int64_t n_tokens, float* state, int64_t chunk, float* scratch) {
  chunked<dot_f32_avx2>(h, n_tokens, state, chunk, scratch);
}

}  // namespace tessera

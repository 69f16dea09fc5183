#include "kernels/delta_rule.h"

#include "kernels/kernel_set.h"

#include <vector>

namespace tessera {

// The bodies (kernels/delta_rule_body.inc) take their scratch from here, so the ISA files
// instantiate no standard-library code.
void delta_rule_recurrent(const DeltaRuleHead& h, int64_t n_tokens, float* state) {
  std::vector<float> scratch(static_cast<size_t>(2 * h.dv));
  kernels().delta_rule_recurrent(h, n_tokens, state, scratch.data());
}

void delta_rule_chunked(const DeltaRuleHead& h, int64_t n_tokens, float* state, int64_t chunk) {
  std::vector<float> scratch(static_cast<size_t>(chunk * (1 + chunk + h.dv + h.dk) + h.dv));
  kernels().delta_rule_chunked(h, n_tokens, state, chunk, scratch.data());
}

}  // namespace tessera

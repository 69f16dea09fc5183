// What the scheduler asks of a constrained sequence (structured output, forced tool calls).
// Per step, on rank 0's compute thread: mask_logits() on the logits row before sampling, then
// accept_token() with the sampled token unless it ends the sequence, then finished() to see
// whether the output is complete with nothing more allowed. The other ranks never sample, so they
// never see a constraint.
#pragma once

#include <cstdint>
#include <set>
#include <span>

namespace tessera {

class DecodingConstraint {
 public:
  virtual ~DecodingConstraint() = default;
  // Sets to -inf the logit of every token that cannot come next. End-of-sequence ids
  // (`eos_ids`) stay allowed only while the output so far is complete.
  virtual void mask_logits(std::span<float> logits, const std::set<int32_t>& eos_ids) = 0;
  // Advances past `token`, which mask_logits allowed. Throws tessera::InternalError otherwise.
  virtual void accept_token(int32_t token) = 0;
  // The output is complete and nothing may follow: the sequence stops here.
  virtual bool finished() const = 0;
};

}  // namespace tessera

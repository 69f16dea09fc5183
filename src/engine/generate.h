// The generation loop on rank 0: prefill the prompt, then decode one token at a time until an
// EOS id, max_tokens, or the callback says stop (stop strings, a disconnected client).
#pragma once

#include "engine/lockstep.h"
#include "engine/sampler.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace tessera {

struct GenerateRequest {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 16;
  SamplingParams sampling;
  std::set<int32_t> stop_ids;    // EOS ids; never appended to the output
  int64_t allowed_vocab = 0;     // 0: the model's vocab_size
};

struct GenerateResult {
  std::vector<int32_t> tokens;
  std::string finish_reason;  // "stop" | "length"
  double prompt_seconds = 0;
  double generate_seconds = 0;  // decode time after the first token
};

// on_token(id, logits) returns false to stop early (finish_reason "stop").
using TokenCallback = std::function<bool(int32_t token, const std::vector<float>& logits)>;

GenerateResult generate(LockstepEngine& engine, int slot, const GenerateRequest& request,
                        const TokenCallback& on_token = nullptr);

}  // namespace tessera

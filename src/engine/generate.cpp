#include "engine/generate.h"

#include "util/error.h"

#include <chrono>

namespace tessera {

GenerateResult generate(LockstepEngine& engine, int slot, const GenerateRequest& req, const TokenCallback& on_token) {
  if (req.prompt.empty()) fail("the prompt is empty: give at least one token");
  const int64_t vocab = req.allowed_vocab > 0 ? req.allowed_vocab : engine.model().config().vocab_size;
  Sampler sampler(req.sampling, vocab);
  GenerateResult result;
  result.finish_reason = "length";
  std::vector<int32_t> history = req.prompt;
  std::vector<float> logits;
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  engine.forward(slot, req.prompt, false, &logits);
  result.prompt_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  auto t1 = clock::now();
  for (int64_t i = 0; i < req.max_tokens; ++i) {
    if (i > 0) engine.forward(slot, std::span<const int32_t>(&history.back(), 1), false, &logits);
    const int32_t next = sampler.sample(logits, history);
    if (req.stop_ids.count(next)) {
      result.finish_reason = "stop";
      break;
    }
    result.tokens.push_back(next);
    history.push_back(next);
    if (on_token && !on_token(next, logits)) {
      result.finish_reason = "stop";
      break;
    }
  }
  result.generate_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return result;
}

}  // namespace tessera

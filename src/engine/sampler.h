// Next-token selection from logits. logit_bias is added first (OpenAI: before sampling, so it
// steers greedy decoding too; -100 effectively bans a token). temperature 0 is greedy (ties go
// to the lowest id). Otherwise: penalties → temperature → top-k → top-p → min-p → draw with a seeded RNG, the
// order llama.cpp and vLLM use. Ids ≥ `allowed_vocab` (padding rows of the embedding that have
// no token) are never chosen.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace tessera {

struct SamplingParams {
  float temperature = 0.0f;
  int64_t top_k = 0;         // 0: off
  float top_p = 1.0f;        // 1: off
  float min_p = 0.0f;        // 0: off
  std::optional<uint64_t> seed;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  float repetition_penalty = 1.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token id, added to its logit); ids ≥ vocab are ignored
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, int64_t allowed_vocab);
  // `history`: tokens generated so far (and the prompt, for repetition_penalty).
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
  // log-softmax of the (unpenalised, temperature-1) logits, for logprobs.
  static std::vector<float> log_softmax(std::span<const float> logits, int64_t allowed_vocab);

 private:
  SamplingParams params_;
  int64_t allowed_vocab_;
  std::mt19937_64 rng_;
};

}  // namespace tessera

#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace tessera {

Sampler::Sampler(const SamplingParams& params, int64_t allowed_vocab)
    : params_(params), allowed_vocab_(allowed_vocab), rng_(params.seed.value_or(std::random_device{}())) {}

std::vector<float> Sampler::log_softmax(std::span<const float> logits, int64_t allowed_vocab) {
  const int64_t n = std::min<int64_t>(allowed_vocab, static_cast<int64_t>(logits.size()));
  const float m = *std::max_element(logits.begin(), logits.begin() + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - m));
  const float lse = m + static_cast<float>(std::log(sum));
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = logits[i] - lse;
  return out;
}

int32_t Sampler::sample(std::span<const float> logits_in, std::span<const int32_t> history) {
  const int64_t n = std::min<int64_t>(allowed_vocab_, static_cast<int64_t>(logits_in.size()));
  std::vector<float> logits(logits_in.begin(), logits_in.begin() + n);
  for (const auto& [id, bias] : params_.logit_bias)
    if (id >= 0 && id < n) logits[id] += bias;

  if (params_.presence_penalty != 0 || params_.frequency_penalty != 0 || params_.repetition_penalty != 1.0f) {
    std::unordered_map<int32_t, int> counts;
    for (int32_t t : history)
      if (t >= 0 && t < n) ++counts[t];
    for (const auto& [tok, count] : counts) {
      float& l = logits[tok];
      if (params_.repetition_penalty != 1.0f) l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
      l -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(count);
    }
  }
  if (params_.temperature <= 0.0f)
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());

  std::vector<int32_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  int64_t keep = n;
  if (params_.top_k > 0 && params_.top_k < n) {
    keep = params_.top_k;
    std::partial_sort(ids.begin(), ids.begin() + keep, ids.end(), by_logit);
  } else {
    std::sort(ids.begin(), ids.end(), by_logit);
  }
  ids.resize(static_cast<size_t>(keep));
  std::vector<double> p(ids.size());
  const float inv_t = 1.0f / params_.temperature;
  const float top = logits[ids[0]];
  double sum = 0;
  for (size_t i = 0; i < ids.size(); ++i) sum += p[i] = std::exp(static_cast<double>((logits[ids[i]] - top) * inv_t));
  for (double& v : p) v /= sum;
  size_t cut = p.size();
  if (params_.top_p < 1.0f) {
    double acc = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      acc += p[i];
      if (acc >= params_.top_p) {
        cut = i + 1;
        break;
      }
    }
  }
  if (params_.min_p > 0.0f) {
    const double floor = params_.min_p * p[0];
    size_t i = 1;
    while (i < cut && p[i] >= floor) ++i;
    cut = i;
  }
  std::discrete_distribution<size_t> draw(p.begin(), p.begin() + static_cast<ptrdiff_t>(cut));
  return ids[draw(rng_)];
}

}  // namespace tessera

#include "server/bench_stats.h"

#include <algorithm>

namespace tessera::server {

void add_bench_stats(nlohmann::ordered_json& out, const SequenceStats& s,
                     const std::optional<std::vector<MemoryUsage>>& memory) {
  // Prefill speed counts the tokens computed: those restored from the prefix cache took no time.
  const int64_t computed = s.prompt_tokens - s.cached_tokens;
  const double prompt_tps = s.prompt_seconds > 0 ? static_cast<double>(computed) / s.prompt_seconds : 0.0;
  const double generation_tps = s.decode_seconds > 0 ? static_cast<double>(s.completion_tokens) / s.decode_seconds : 0.0;
  out["prompt_tokens"] = s.prompt_tokens;
  out["generation_tokens"] = s.completion_tokens;
  out["prompt_tps"] = prompt_tps;
  out["prompt_cached_tokens"] = s.cached_tokens;
  out["generation_tps"] = generation_tps;
  out["prompt_seconds"] = s.prompt_seconds;
  out["generation_seconds"] = s.decode_seconds;
  out["time_to_first_token_seconds"] = s.first_token_seconds;
  out["queue_seconds"] = s.queue_seconds;
  nlohmann::ordered_json peak = nullptr, per_rank = nullptr;
  if (memory) {
    per_rank = nlohmann::ordered_json::array();
    int64_t largest = 0;
    for (const MemoryUsage& m : *memory) {
      per_rank.push_back(m.peak_resident_bytes);
      largest = std::max(largest, m.peak_resident_bytes);
    }
    peak = largest;
  }
  out["peak_memory_bytes"] = peak;
  out["peak_memory_bytes_per_rank"] = per_rank;
  out["generation_stats"] = {{"prompt_tps", prompt_tps},
                             {"generation_tps", generation_tps},
                             {"prompt_tokens", s.prompt_tokens},
                             {"generation_tokens", s.completion_tokens},
                             {"peak_memory_usage", {{"in_bytes", peak}}},
                             {"prefix_cache_hit", s.cached_tokens > 0}};
}

}  // namespace tessera::server

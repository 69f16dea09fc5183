// The measurements POST /bench/chat/completions adds to a chat completion: tessera's own fields
// (prompt_tps, generation_tps, ..., peak_memory_bytes_per_rank) and exo's `generation_stats`
// object, so exo's benchmark tooling reads tessera unchanged:
//   "generation_stats": {"prompt_tps", "generation_tps", "prompt_tokens", "generation_tokens",
//                        "peak_memory_usage": {"in_bytes"}, "prefix_cache_hit"}
// prompt_tps divides the prompt tokens actually computed (not those restored from the prefix
// cache, counted in prompt_cached_tokens) by the prefill time.
#pragma once

#include "engine/memory_usage.h"
#include "engine/sequence_channel.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <vector>

namespace tessera::server {

// `memory`: every rank's usage after the generation (nullopt: could not be gathered in time;
// the memory fields are then null).
void add_bench_stats(nlohmann::ordered_json& response, const SequenceStats& stats,
                     const std::optional<std::vector<MemoryUsage>>& memory);

}  // namespace tessera::server

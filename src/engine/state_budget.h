// How much memory the decode state of a sequence takes, and the budget the running sequences
// share (`tessera serve --kv-budget-mb`). The state (model/decode_state.h) is sharded like the
// weights, so every number here is per rank: the largest shard, the one that runs out first.
//
//   per token    : K and V (fp32) of every full-attention layer — the KV cache grows with the
//                  sequence and is never allocated ahead for the whole context;
//   per sequence : Gated DeltaNet conv + recurrent state (fp32, fixed size), plus rank 0's
//                  logits row for sampling.
//
// The scheduler reserves bytes_for(prompt + max_tokens) when it admits a sequence and returns
// them when the sequence ends, so an admitted sequence can never run its rank out of memory;
// requests that do not fit yet wait in the queue.
#pragma once

#include "engine/memory_usage.h"
#include "io/model_config.h"

#include <cstdint>
#include <span>

namespace tessera {

struct SequenceStateSize {
  int64_t bytes_per_token = 0;
  int64_t bytes_per_sequence = 0;

  int64_t bytes_for(int64_t tokens) const { return bytes_per_sequence + tokens * bytes_per_token; }
  // The longest sequence (prompt + completion tokens) whose state fits in `budget_bytes`.
  int64_t tokens_within(int64_t budget_bytes) const;
  // The largest rank's share when the model is split over `world` ranks.
  static SequenceStateSize of(const ModelConfig& config, int world);
};

// The default budget when --kv-budget-mb is not given: 80% of the memory the hosts can still
// give after loading (the rest is headroom for activations and allocator slack), each host's
// share split evenly among the ranks it runs; the smallest share over all ranks; less
// `reserved_bytes_per_rank` that something else will fill while serving (the prefix cache's
// budget). 0 when the memory is unknown (no ranks) or nothing is left.
int64_t default_state_budget(std::span<const MemoryUsage> per_rank, int64_t reserved_bytes_per_rank = 0);

}  // namespace tessera

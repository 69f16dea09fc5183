// ShardPlan: which heads, experts' intermediate columns and vocabulary rows this rank owns
// (spec §7, design ARCHITECTURE.md "Sharding"). Computed once from (config, rank, world).
//  - attention: query heads split evenly; KV heads split when nkv % N == 0, otherwise each
//    rank holds KV head r / (N / nkv) (replication, needs N % nkv == 0);
//  - Gated DeltaNet: key heads and value heads split evenly (so value head j's key head j / r
//    stays on the same rank);
//  - MoE experts, shared expert and dense MLP: split along the intermediate dimension;
//  - lm_head: split by vocabulary rows (logits gathered on rank 0); everything else replicated.
// The weight loader turns these ranges into row/column slices of every tensor, section by
// section for fused tensors.
#pragma once

#include "io/model_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

struct Range {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  Range shifted(int64_t by) const { return {begin + by, end + by}; }
  Range scaled(int64_t by) const { return {begin * by, end * by}; }
};

struct ShardPlan {
  int rank = 0;
  int world = 1;
  Range q_heads;
  Range kv_heads;
  Range linear_key_heads;
  Range linear_value_heads;
  Range moe_intermediate;
  Range shared_intermediate;
  Range dense_intermediate;
  Range vocab;
  std::vector<int64_t> vocab_counts;  // rows of lm_head per rank

  // Throws tessera::Error when `world` cannot be honoured, naming the dimension and the
  // world sizes that would work.
  static ShardPlan make(const ModelConfig& config, int rank, int world);
};

// World sizes in [1, 64] that satisfy every divisibility rule of the config.
std::vector<int> valid_world_sizes(const ModelConfig& config);

}  // namespace tessera

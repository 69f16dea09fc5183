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

// How a tensor is split across ranks: column = its output rows, row = its input columns.
enum class Split { kReplicated, kColumn, kRow };
const char* split_name(Split split);

// What a tensor is for, recorded with its slice so reports (`tessera info`, `shard-plan`) count
// it without matching names. kUnspecified is never recorded: the loader checks every slice has one.
enum class TensorRole {
  kUnspecified,
  kEmbedding,        // embed_tokens: one row gathered per token
  kLmHead,           // output head (the embedding matrix again when tied)
  kNorm,             // RMSNorm weights
  kAttention,        // q/k/v/o projections of full attention
  kLinearAttention,  // Gated DeltaNet projections, conv1d, A_log, dt_bias
  kRouter,           // MoE router
  kRoutedExpert,     // one routed expert: only num_experts_per_tok of them run per token
  kSharedExpert,     // shared expert and its gate
  kDenseMlp,         // dense SwiGLU MLP
};
const char* role_name(TensorRole role);

// One tensor (or one expert stack) as this rank holds it.
struct PlanRecord {
  std::string tensor;
  TensorRole role;
  Split split;
  std::vector<Range> rows;
  Range cols;
  int64_t experts;  // how many experts of a 3-D stack were taken (1 for 2-D)
  size_t bytes;     // bytes this rank holds of it
  int64_t params;   // parameters this rank holds of it
};

// World sizes in [1, 64] that satisfy every divisibility rule of the config.
std::vector<int> valid_world_sizes(const ModelConfig& config);

}  // namespace tessera

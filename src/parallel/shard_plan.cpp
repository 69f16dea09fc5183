#include "parallel/shard_plan.h"

#include "util/error.h"

#include <fmt/ranges.h>

namespace tessera {

namespace {

struct Rule {
  const char* dimension;
  int64_t value;
};

std::vector<Rule> even_split_rules(const ModelConfig& c) {
  std::vector<Rule> rules = {{"num_attention_heads", c.num_attention_heads}};
  bool has_linear = false, has_moe = false, has_dense = false;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    has_linear |= c.layer_types[i] == LayerType::kLinearAttention;
    (c.is_moe_layer(i) ? has_moe : has_dense) = true;
  }
  if (has_linear) {
    rules.push_back({"linear_num_key_heads", c.linear.num_key_heads});
    rules.push_back({"linear_num_value_heads", c.linear.num_value_heads});
  }
  if (has_moe) {
    rules.push_back({"moe_intermediate_size", c.moe.moe_intermediate_size});
    if (c.moe.shared_expert_intermediate_size > 0)
      rules.push_back({"shared_expert_intermediate_size", c.moe.shared_expert_intermediate_size});
  }
  if (has_dense) rules.push_back({"intermediate_size", c.intermediate_size});
  return rules;
}

// Empty string when `world` works, else the reason.
std::string check_world(const ModelConfig& c, int world) {
  for (const Rule& rule : even_split_rules(c))
    if (rule.value % world != 0)
      return fmt::format("{} = {} is not divisible by {}", rule.dimension, rule.value, world);
  const int64_t nkv = c.num_key_value_heads;
  if (nkv % world != 0 && world % nkv != 0)
    return fmt::format("num_key_value_heads = {} neither divides nor is a multiple of {} "
                       "(KV heads are split when nkv % N == 0 and replicated when N % nkv == 0)",
                       nkv, world);
  return "";
}

Range even(int64_t n, int rank, int world) { return {n / world * rank, n / world * (rank + 1)}; }

}  // namespace

const char* split_name(Split split) {
  switch (split) {
    case Split::kReplicated: return "replicated";
    case Split::kColumn: return "column";
    case Split::kRow: return "row";
  }
  return "?";
}

const char* role_name(TensorRole role) {
  switch (role) {
    case TensorRole::kUnspecified: return "unspecified";
    case TensorRole::kEmbedding: return "embedding";
    case TensorRole::kLmHead: return "lm_head";
    case TensorRole::kNorm: return "norm";
    case TensorRole::kAttention: return "attention";
    case TensorRole::kLinearAttention: return "linear_attention";
    case TensorRole::kRouter: return "router";
    case TensorRole::kRoutedExpert: return "routed_expert";
    case TensorRole::kSharedExpert: return "shared_expert";
    case TensorRole::kDenseMlp: return "dense_mlp";
  }
  return "?";
}

std::vector<int> valid_world_sizes(const ModelConfig& config) {
  std::vector<int> ok;
  for (int n = 1; n <= 64; ++n)
    if (check_world(config, n).empty()) ok.push_back(n);
  return ok;
}

ShardPlan ShardPlan::make(const ModelConfig& c, int rank, int world) {
  if (world < 1 || rank < 0 || rank >= world) fail("invalid rank {} of world size {}", rank, world);
  const std::string reason = check_world(c, world);
  if (!reason.empty())
    fail("cannot split this {} model across {} ranks: {}; world sizes that work: {}", family_name(c.family), world,
         reason, fmt::join(valid_world_sizes(c), ", "));
  ShardPlan p;
  p.rank = rank;
  p.world = world;
  p.q_heads = even(c.num_attention_heads, rank, world);
  const int64_t nkv = c.num_key_value_heads;
  if (nkv % world == 0) {
    p.kv_heads = even(nkv, rank, world);
  } else {
    const int64_t head = rank / (world / nkv);  // replicated: world/nkv ranks share one KV head
    p.kv_heads = {head, head + 1};
  }
  p.linear_key_heads = even(c.linear.num_key_heads, rank, world);
  p.linear_value_heads = even(c.linear.num_value_heads, rank, world);
  p.moe_intermediate = even(c.moe.moe_intermediate_size, rank, world);
  p.shared_intermediate = even(c.moe.shared_expert_intermediate_size, rank, world);
  p.dense_intermediate = even(c.intermediate_size, rank, world);
  // The vocabulary need not divide: the first (V % N) ranks take one extra row.
  int64_t begin = 0;
  for (int r = 0; r < world; ++r) {
    const int64_t rows = c.vocab_size / world + (r < c.vocab_size % world ? 1 : 0);
    p.vocab_counts.push_back(rows);
    if (r == rank) p.vocab = {begin, begin + rows};
    begin += rows;
  }
  return p;
}

}  // namespace tessera

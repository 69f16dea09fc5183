#include "engine/state_budget.h"

#include "parallel/shard_plan.h"

#include <algorithm>
#include <limits>
#include <map>

namespace tessera {

int64_t SequenceStateSize::tokens_within(int64_t budget_bytes) const {
  if (budget_bytes <= bytes_per_sequence) return 0;
  if (bytes_per_token <= 0) return std::numeric_limits<int64_t>::max();
  return (budget_bytes - bytes_per_sequence) / bytes_per_token;
}

SequenceStateSize SequenceStateSize::of(const ModelConfig& config, int world) {
  constexpr int64_t kFloat = sizeof(float);
  const int64_t full_layers = config.num_full_attention_layers();
  const int64_t linear_layers = static_cast<int64_t>(config.layer_types.size()) - full_layers;
  const auto& la = config.linear;
  SequenceStateSize largest;
  for (int rank = 0; rank < world; ++rank) {
    const ShardPlan plan = ShardPlan::make(config, rank, world);
    SequenceStateSize s;
    s.bytes_per_token = full_layers * 2 * plan.kv_heads.size() * config.head_dim * kFloat;
    const int64_t kh = plan.linear_key_heads.size(), vh = plan.linear_value_heads.size();
    const int64_t conv_channels = 2 * kh * la.key_head_dim + vh * la.value_head_dim;
    const int64_t per_linear_layer = (la.conv_kernel - 1) * conv_channels + vh * la.key_head_dim * la.value_head_dim;
    s.bytes_per_sequence = linear_layers * per_linear_layer * kFloat;
    if (rank == 0) s.bytes_per_sequence += config.vocab_size * kFloat;
    largest.bytes_per_token = std::max(largest.bytes_per_token, s.bytes_per_token);
    largest.bytes_per_sequence = std::max(largest.bytes_per_sequence, s.bytes_per_sequence);
  }
  return largest;
}

int64_t default_state_budget(std::span<const MemoryUsage> per_rank, int64_t reserved_bytes_per_rank) {
  std::map<int64_t, int64_t> ranks_on_host;
  for (const MemoryUsage& m : per_rank) ++ranks_on_host[m.host_id];
  int64_t budget = std::numeric_limits<int64_t>::max();
  for (const MemoryUsage& m : per_rank) budget = std::min(budget, m.available_bytes / ranks_on_host[m.host_id]);
  if (per_rank.empty()) return 0;
  return std::max<int64_t>(0, budget / 5 * 4 - reserved_bytes_per_rank);
}

}  // namespace tessera

// Full attention layer (spec §3.4), gated (Qwen3.5 / Qwen3-Next) or plain (Qwen3-MoE).
// Dimension letters: T tokens, H hidden, hd head_dim, h local query heads, g local KV heads.
#pragma once

#include "kernels/rope.h"
#include "model/decode_state.h"
#include "model/weight_loader.h"
#include "util/thread_pool.h"

#include <string>

namespace tessera {

struct AttentionWeights {
  Matrix q_proj;  // [h * hd * (gated ? 2 : 1), H]; gated rows per head: [query (hd) | gate (hd)]
  Matrix k_proj;  // [g * hd, H]
  Matrix v_proj;  // [g * hd, H]
  Matrix o_proj;  // [H, h * hd]   row-parallel: output is a partial sum
  std::vector<float> q_norm, k_norm;  // [hd], +1 folded in where the norm is zero-centred
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
  bool gated = true;
};

// Loads this rank's heads. `prefix` is the layer's "…layers.{i}.self_attn." name prefix.
AttentionWeights load_attention(WeightLoader& loader, const ModelConfig& config, const ShardPlan& plan,
                                const std::string& prefix, bool add_one_to_norms);

// x: [T, H] (normed input) → out: [T, H] partial sum of this rank's heads. Each segment's
// rows are appended to its sequence's cache at its positions and attend within it.
void attention_forward(const AttentionWeights& w, const Rope& rope, float eps, const float* x, int64_t n_tokens,
                       std::span<const RowSegment> segments, float* out, ThreadPool& pool);

}  // namespace tessera

// Gated DeltaNet linear-attention layer (spec §3.5). Both checkpoint layouts load into the
// Qwen3.5 form: in_proj_qkv rows [q | k | v] (each head-major), in_proj_z, in_proj_b,
// in_proj_a. Qwen3-Next's per-key-head grouped in_proj_qkvz / in_proj_ba are un-grouped at load
// time (§3.5.2), so the forward pass has one path.
// Dimension letters: T tokens, H hidden; this rank holds kh key heads (dk each) and vh value heads
// (dv each), r = vh / kh value heads per key head; C = 2*kh*dk + vh*dv conv channels.
#pragma once

#include "model/decode_state.h"
#include "model/weight_loader.h"
#include "util/thread_pool.h"

#include <string>

namespace tessera {

struct DeltaNetWeights {
  Matrix in_qkv;   // [C, H]
  Matrix in_z;     // [vh * dv, H]
  Matrix in_b;     // [vh, H]
  Matrix in_a;     // [vh, H]
  Matrix out_proj; // [H, vh * dv]  row-parallel
  std::vector<float> conv;     // [C, K]
  std::vector<float> a_log;    // [vh]
  std::vector<float> dt_bias;  // [vh]
  std::vector<float> norm;     // [dv], used as is (not zero-centred)
  int64_t key_heads = 0, value_heads = 0, dk = 0, dv = 0, kernel = 0;
  int64_t channels() const { return 2 * key_heads * dk + value_heads * dv; }
};

enum class DeltaNetProjections { kSeparate, kFusedGrouped };  // Qwen3.5 | Qwen3-Next

DeltaNetWeights load_deltanet(WeightLoader& loader, const ModelConfig& config, const ShardPlan& plan,
                              const std::string& prefix, DeltaNetProjections projections,
                              bool mlx_conv_layout);  // conv1d stored [C, K, 1] instead of [C, 1, K]

// x: [T, H] normed input → out: [T, H] partial sum. Each segment's rows run through its
// sequence's conv and recurrent state (the chunked delta rule for a segment of several rows).
void deltanet_forward(const DeltaNetWeights& w, float eps, const float* x, int64_t n_tokens,
                      std::span<const RowSegment> segments, float* out, ThreadPool& pool);

}  // namespace tessera

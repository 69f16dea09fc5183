// One pre-norm residual block, shared by every family (spec §0):
//   h   = x + Mixer(RMSNorm_in(x))        Mixer = Gated DeltaNet or full attention
//   out = h + FFN(RMSNorm_post(h))        FFN   = sparse MoE or dense SwiGLU MLP
// A family file (qwen3_5.cpp, qwen3_next.cpp, qwen3_moe.cpp) decides how its tensors load into
// this struct; the forward pass (model.cpp) is the same for all of them.
#pragma once

#include "model/attention.h"
#include "model/feed_forward.h"
#include "model/gated_deltanet.h"
#include "model/tensor_names.h"

namespace tessera {

struct DecoderLayer {
  LayerType type = LayerType::kLinearAttention;
  std::vector<float> input_norm;  // [H], +1 folded in where zero-centred
  std::vector<float> post_norm;   // [H]
  AttentionWeights attention;     // when type == kFullAttention
  DeltaNetWeights deltanet;       // when type == kLinearAttention
  bool is_moe = false;
  MoeWeights moe;                 // when is_moe
  SwiGlu mlp;                     // otherwise
};

struct LayerLoadContext {
  WeightLoader& loader;
  const ModelConfig& config;
  const ShardPlan& plan;
  const TensorNames& names;
};

using LayerLoaderFn = DecoderLayer (*)(const LayerLoadContext& ctx, int64_t layer);

// Family entry points (one per family file); layer_loader_for picks one by the model-side table
// in decoder_layer.cpp.
DecoderLayer load_qwen3_5_layer(const LayerLoadContext& ctx, int64_t layer);
DecoderLayer load_qwen3_next_layer(const LayerLoadContext& ctx, int64_t layer);
DecoderLayer load_qwen3_moe_layer(const LayerLoadContext& ctx, int64_t layer);
LayerLoaderFn layer_loader_for(Family family);

// The Qwen3.5 / Qwen3-Next hybrid block: DeltaNet or gated attention by layer type, then the
// norms and FFN; the families differ only in how DeltaNet's projections are stored.
DecoderLayer load_hybrid_layer(const LayerLoadContext& ctx, int64_t layer, DeltaNetProjections projections);

// The parts every family loads the same way: the two norms and the FFN (MoE or dense).
void load_norms_and_ffn(const LayerLoadContext& ctx, int64_t layer, DecoderLayer& out);

// True when the checkpoint stores zero-centred norms as w and loading must add the 1 (the
// family's norms are zero-centred and the checkpoint is not MLX-sanitized).
bool folds_norm_offset(const LayerLoadContext& ctx);

}  // namespace tessera

// Qwen3-Next (model_type qwen3_next, flat config). Same hybrid stack as Qwen3.5, but the Gated
// DeltaNet projections are fused per key head (in_proj_qkvz, in_proj_ba; spec §3.5.2) and
// layers may be dense MLPs (mlp_only_layers, decoder_sparse_step). Experts are stored per expert
// in HF checkpoints and as switch_mlp stacks in MLX ones.
#include "model/decoder_layer.h"

namespace tessera {

DecoderLayer load_qwen3_next_layer(const LayerLoadContext& ctx, int64_t i) {
  return load_hybrid_layer(ctx, i, DeltaNetProjections::kFusedGrouped);
}

}  // namespace tessera

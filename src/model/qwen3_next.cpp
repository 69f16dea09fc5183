// Qwen3-Next (model_type qwen3_next, flat config). Same hybrid stack as Qwen3.5, but the Gated
// DeltaNet projections are fused per key head (in_proj_qkvz, in_proj_ba; spec §3.5.2) and
// layers may be dense MLPs (mlp_only_layers, decoder_sparse_step). Experts are stored per expert
// in HF checkpoints and as switch_mlp stacks in MLX ones.
#include "model/decoder_layer.h"

namespace tessera {

DecoderLayer load_qwen3_next_layer(const LayerLoadContext& ctx, int64_t i) {
  DecoderLayer layer;
  layer.type = ctx.config.layer_types[i];
  const std::string p = ctx.names.layer(i);
  if (layer.type == LayerType::kFullAttention)
    layer.attention = load_attention(ctx.loader, ctx.config, ctx.plan, p + "self_attn.", !ctx.names.mlx_sanitized);
  else
    layer.deltanet = load_deltanet(ctx.loader, ctx.config, ctx.plan, p + "linear_attn.",
                                   DeltaNetProjections::kFusedGrouped, ctx.names.mlx_sanitized);
  load_norms_and_ffn(ctx, i, layer);
  return layer;
}

}  // namespace tessera

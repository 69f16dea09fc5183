// Qwen3.5 and Qwen3.5-MoE (model_type qwen3_5, qwen3_5_moe and their _text variants).
// Hybrid stack: Gated DeltaNet with separate in_proj_qkv / z / b / a, and every 4th layer gated
// full attention; zero-centred (1+w) norms; dense SwiGLU MLP (qwen3_5) or sparse MoE with a gated
// shared expert in every layer (qwen3_5_moe). Tensor names: spec §2.2, §2.6.
#include "model/decoder_layer.h"

namespace tessera {

DecoderLayer load_hybrid_layer(const LayerLoadContext& ctx, int64_t i, DeltaNetProjections projections) {
  DecoderLayer layer;
  layer.type = ctx.config.layer_types[i];
  const std::string p = ctx.names.layer(i);
  if (layer.type == LayerType::kFullAttention)
    layer.attention = load_attention(ctx.loader, ctx.config, ctx.plan, p + "self_attn.", !ctx.names.mlx_sanitized);
  else
    layer.deltanet = load_deltanet(ctx.loader, ctx.config, ctx.plan, p + "linear_attn.", projections,
                                   ctx.names.mlx_sanitized);
  load_norms_and_ffn(ctx, i, layer);
  return layer;
}

DecoderLayer load_qwen3_5_layer(const LayerLoadContext& ctx, int64_t i) {
  return load_hybrid_layer(ctx, i, DeltaNetProjections::kSeparate);
}

void load_norms_and_ffn(const LayerLoadContext& ctx, int64_t i, DecoderLayer& layer) {
  const std::string p = ctx.names.layer(i);
  const int64_t H = ctx.config.hidden_size;
  // HF stores the offset w of zero-centred norms (apply 1+w); MLX already baked the +1 in.
  const bool add_one = ctx.config.zero_centred_norms() && !ctx.names.mlx_sanitized;
  layer.input_norm = ctx.loader.vector(p + "input_layernorm.weight", {H}, {}, add_one);
  layer.post_norm = ctx.loader.vector(p + "post_attention_layernorm.weight", {H}, {}, add_one);
  layer.is_moe = ctx.config.is_moe_layer(i);
  if (layer.is_moe)
    layer.moe = load_moe(ctx.loader, ctx.config, ctx.plan, p + "mlp.", ctx.names.experts);
  else
    layer.mlp = load_dense_mlp(ctx.loader, ctx.config, ctx.plan, p + "mlp.");
}

LayerLoaderFn layer_loader_for(Family family) {
  switch (family) {
    case Family::kQwen35Moe:
    case Family::kQwen35: return load_qwen3_5_layer;
    case Family::kQwen3Next: return load_qwen3_next_layer;
    case Family::kQwen3Moe: return load_qwen3_moe_layer;
  }
  return load_qwen3_5_layer;
}

}  // namespace tessera

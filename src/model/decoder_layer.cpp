#include "model/decoder_layer.h"

#include <array>

namespace tessera {

namespace {

// The model side of the family table (io/family_spec.cpp): each family's layer loader, indexed
// by Family. Adding a family adds its row there and its entry here.
constexpr std::array<LayerLoaderFn, kFamilyCount> kLayerLoaders = [] {
  std::array<LayerLoaderFn, kFamilyCount> loaders{};
  loaders[static_cast<size_t>(Family::kQwen35Moe)] = load_qwen3_5_layer;
  loaders[static_cast<size_t>(Family::kQwen35)] = load_qwen3_5_layer;
  loaders[static_cast<size_t>(Family::kQwen3Next)] = load_qwen3_next_layer;
  loaders[static_cast<size_t>(Family::kQwen3Moe)] = load_qwen3_moe_layer;
  return loaders;
}();

constexpr bool every_family_has_a_loader() {
  for (LayerLoaderFn fn : kLayerLoaders)
    if (fn == nullptr) return false;
  return true;
}
static_assert(every_family_has_a_loader(), "kLayerLoaders needs an entry for every Family");

}  // namespace

LayerLoaderFn layer_loader_for(Family family) { return kLayerLoaders.at(static_cast<size_t>(family)); }

bool folds_norm_offset(const LayerLoadContext& ctx) {
  // HF stores the offset w of zero-centred norms (apply 1+w); MLX already baked the +1 in.
  return ctx.config.zero_centred_norms() && !ctx.names.mlx_sanitized;
}

DecoderLayer load_hybrid_layer(const LayerLoadContext& ctx, int64_t i, DeltaNetProjections projections) {
  DecoderLayer layer;
  layer.type = ctx.config.layer_types[i];
  const std::string p = ctx.names.layer(i);
  if (layer.type == LayerType::kFullAttention)
    layer.attention = load_attention(ctx.loader, ctx.config, ctx.plan, p + "self_attn.", folds_norm_offset(ctx));
  else
    layer.deltanet = load_deltanet(ctx.loader, ctx.config, ctx.plan, p + "linear_attn.", projections,
                                   ctx.names.mlx_sanitized);
  load_norms_and_ffn(ctx, i, layer);
  return layer;
}

void load_norms_and_ffn(const LayerLoadContext& ctx, int64_t i, DecoderLayer& layer) {
  const std::string p = ctx.names.layer(i);
  const int64_t H = ctx.config.hidden_size;
  const bool add_one = folds_norm_offset(ctx);
  layer.input_norm = ctx.loader.vector(TensorRole::kNorm, p + "input_layernorm.weight", {H}, {}, add_one);
  layer.post_norm = ctx.loader.vector(TensorRole::kNorm, p + "post_attention_layernorm.weight", {H}, {}, add_one);
  layer.is_moe = ctx.config.is_moe_layer(i);
  if (layer.is_moe)
    layer.moe = load_moe(ctx.loader, ctx.config, ctx.plan, p + "mlp.", ctx.names.experts);
  else
    layer.mlp = load_dense_mlp(ctx.loader, ctx.config, ctx.plan, p + "mlp.");
}

}  // namespace tessera

#include "model/decoder_layer.h"

#include <array>

namespace tessera {

namespace {

// The model side of the family table (io/family_spec.cpp): each family's layer loader, one row per
// Family in enum order. Adding a family adds its row there and its row here; the static_assert
// names a missing or misplaced row. (It compares families, not function pointers: comparing a
// function's address is not a constant expression in a sanitizer build.)
struct LoaderRow {
  Family family;
  LayerLoaderFn load;
};
constexpr std::array<LoaderRow, kFamilyCount> kLayerLoaders = {{
    {Family::kQwen35Moe, load_qwen3_5_layer},
    {Family::kQwen35, load_qwen3_5_layer},
    {Family::kQwen3Next, load_qwen3_next_layer},
    {Family::kQwen3Moe, load_qwen3_moe_layer},
}};

constexpr bool one_row_per_family_in_order() {
  for (size_t i = 0; i < kLayerLoaders.size(); ++i)
    if (static_cast<size_t>(kLayerLoaders[i].family) != i) return false;
  return true;
}
static_assert(one_row_per_family_in_order(), "kLayerLoaders needs one row per Family, in enum order");

}  // namespace

LayerLoaderFn layer_loader_for(Family family) { return kLayerLoaders.at(static_cast<size_t>(family)).load; }

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

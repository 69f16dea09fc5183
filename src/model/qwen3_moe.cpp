// Qwen3-MoE (model_type qwen3_moe, e.g. Qwen3-30B-A3B): every layer is plain GQA attention with
// standard (w*x) q/k RMSNorm, full-width RoPE and no output gate; MoE without a shared expert
// (spec §2.4). Those switches are the family's row in io/family_spec.cpp.
#include "model/decoder_layer.h"

namespace tessera {

DecoderLayer load_qwen3_moe_layer(const LayerLoadContext& ctx, int64_t i) {
  DecoderLayer layer;
  layer.type = LayerType::kFullAttention;
  layer.attention =
      load_attention(ctx.loader, ctx.config, ctx.plan, ctx.names.layer(i) + "self_attn.", folds_norm_offset(ctx));
  load_norms_and_ffn(ctx, i, layer);
  return layer;
}

}  // namespace tessera

// Qwen3.5 and Qwen3.5-MoE (model_type qwen3_5, qwen3_5_moe and their _text variants).
// Hybrid stack: Gated DeltaNet with separate in_proj_qkv / z / b / a, and every 4th layer gated
// full attention; zero-centred (1+w) norms; dense SwiGLU MLP (qwen3_5) or sparse MoE with a gated
// shared expert in every layer (qwen3_5_moe). Tensor names: spec §2.2, §2.6.
#include "model/decoder_layer.h"

namespace tessera {

DecoderLayer load_qwen3_5_layer(const LayerLoadContext& ctx, int64_t i) {
  return load_hybrid_layer(ctx, i, DeltaNetProjections::kSeparate);
}

}  // namespace tessera

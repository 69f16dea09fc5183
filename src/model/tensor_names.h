// Where a checkpoint keeps its tensors (spec §2.1, §2.6). Detected from the names present in
// the checkpoint, never from the directory name:
//   HF ConditionalGeneration  model.language_model.layers.{i}.…   lm_head.weight
//   HF CausalLM / flat        model.layers.{i}.…                  lm_head.weight
//   mlx-community qwen3_5*    language_model.model.layers.{i}.…   language_model.lm_head.weight
// MLX-sanitized checkpoints (conv1d stored [C, K, 1]) have the +1 of zero-centred norms baked in
// and their experts stacked as switch_mlp.{gate,up,down}_proj.
#pragma once

#include "io/model_config.h"
#include "io/safetensors.h"

#include <optional>
#include <string>

namespace tessera {

enum class ExpertLayout { kFusedGateUp, kPerExpert, kSwitchMlp };

struct TensorNames {
  std::string model_prefix;  // "model.language_model.", "model." or "language_model.model."
  std::string lm_head;       // "" when embeddings are tied or the head is absent
  bool mlx_sanitized = false;
  ExpertLayout experts = ExpertLayout::kFusedGateUp;

  std::string layer(int64_t i) const { return model_prefix + "layers." + std::to_string(i) + "."; }
  std::string embed() const { return model_prefix + "embed_tokens.weight"; }
  std::string final_norm() const { return model_prefix + "norm.weight"; }
};

TensorNames detect_tensor_names(const Checkpoint& checkpoint, const ModelConfig& config);

// True for tensors a text-only engine skips on purpose (vision tower, MTP head).
bool is_skipped_tensor(const std::string& name);

// --- the mlx-community layout, as `tessera quantize` writes it (spec §2.6, §5.4) ---

// Prefix and head name mlx-lm saves a model of this config under: "language_model.model." and
// "language_model.lm_head.weight" for qwen3_5(_moe) with a nested text_config, else "model." and
// "lm_head.weight" (flat configs, Qwen3-Next, Qwen3-MoE). mlx_sanitized is true, experts kSwitchMlp.
TensorNames mlx_tensor_names(const ModelConfig& config);

// `local` is a name after the model prefix ("layers.3.input_layernorm.weight"). True for the
// zero-centred RMSNorm weights whose +1 mlx-lm's sanitize bakes in: input_layernorm,
// post_attention_layernorm, the final norm, q_norm, k_norm (never linear_attn.norm).
bool is_zero_centred_norm(const std::string& local);

// mlx-lm's per-module quantization predicate (spec §5.4): the MoE router (`….mlp.gate`) and
// `….mlp.shared_expert_gate` are kept at 8 bits with group 64 (or `global_group` when 64 does not
// divide in_features). `module` is the module path without ".weight".
struct QuantOverride {
  bool quantized = true;  // false: no group size divides in_features, the module stays float
  int bits = 8;
  int group_size = 64;
};
std::optional<QuantOverride> mlx_quant_override(const std::string& module, int64_t in_features, int global_group);

}  // namespace tessera

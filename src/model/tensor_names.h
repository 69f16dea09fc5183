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

}  // namespace tessera

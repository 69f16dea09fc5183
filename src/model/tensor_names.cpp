#include "model/tensor_names.h"

#include "util/error.h"

namespace tessera {

namespace {
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

bool is_skipped_tensor(const std::string& name) {
  for (const char* p : {"model.visual.", "visual.", "vision_tower.", "model.vision_tower.", "mtp.", "model.mtp.",
                        "language_model.mtp."})
    if (starts_with(name, p)) return true;
  return false;
}

TensorNames detect_tensor_names(const Checkpoint& ckpt, const ModelConfig& config) {
  TensorNames n;
  bool found = false;
  for (const char* prefix : {"model.language_model.", "language_model.model.", "model."}) {
    if (ckpt.find(std::string(prefix) + "embed_tokens.weight")) {
      n.model_prefix = prefix;
      found = true;
      break;
    }
  }
  if (!found)
    fail("checkpoint {}: no embedding tensor found (looked for model.language_model.embed_tokens.weight, "
         "language_model.model.embed_tokens.weight, model.embed_tokens.weight)", ckpt.dir().string());
  if (!config.tie_word_embeddings) {
    for (const char* head : {"lm_head.weight", "language_model.lm_head.weight"})
      if (ckpt.find(head)) n.lm_head = head;
    if (n.lm_head.empty())
      fail("checkpoint {}: missing tensor 'lm_head.weight' (tie_word_embeddings is false)", ckpt.dir().string());
  }
  // MLX's sanitize moves conv1d to [C, K, 1]; HF keeps [C, 1, K] (spec §2.6).
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    if (config.layer_types[i] != LayerType::kLinearAttention) continue;
    const TensorInfo* conv = ckpt.find(n.layer(i) + "linear_attn.conv1d.weight");
    if (conv && conv->shape.size() == 3) n.mlx_sanitized = conv->shape[2] == 1 && conv->shape[1] != 1;
    break;
  }
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    if (!config.is_moe_layer(i)) continue;
    const std::string mlp = n.layer(i) + "mlp.";
    if (ckpt.find(mlp + "experts.gate_up_proj")) n.experts = ExpertLayout::kFusedGateUp;
    else if (ckpt.find(mlp + "switch_mlp.gate_proj.weight")) n.experts = ExpertLayout::kSwitchMlp;
    else if (ckpt.find(mlp + "experts.0.gate_proj.weight")) n.experts = ExpertLayout::kPerExpert;
    else fail("checkpoint {}: layer {} has no expert tensors (looked for {}experts.gate_up_proj, "
              "{}switch_mlp.gate_proj.weight, {}experts.0.gate_proj.weight)", ckpt.dir().string(), i, mlp, mlp, mlp);
    if (n.experts == ExpertLayout::kSwitchMlp && config.spec().switch_mlp_marks_mlx_sanitized) n.mlx_sanitized = true;
    break;
  }
  return n;
}

TensorNames mlx_tensor_names(const ModelConfig& config) {
  TensorNames n;
  const bool conditional = config.nested_text_config && config.spec().mlx_prefixes_language_model;
  n.model_prefix = conditional ? "language_model.model." : "model.";
  if (!config.tie_word_embeddings) n.lm_head = conditional ? "language_model.lm_head.weight" : "lm_head.weight";
  n.mlx_sanitized = true;
  n.experts = ExpertLayout::kSwitchMlp;
  return n;
}

bool is_zero_centred_norm(const std::string& local) {
  if (local == "norm.weight") return true;
  for (const char* suffix : {".input_layernorm.weight", ".post_attention_layernorm.weight", ".self_attn.q_norm.weight",
                             ".self_attn.k_norm.weight"})
    if (local.ends_with(suffix)) return true;
  return false;
}

std::optional<QuantOverride> mlx_quant_override(const std::string& module, int64_t in_features, int global_group) {
  if (!module.ends_with(".mlp.gate") && !module.ends_with(".mlp.shared_expert_gate")) return std::nullopt;
  for (int group : {64, global_group})
    if (in_features % group == 0) return QuantOverride{true, 8, group};
  return QuantOverride{false, 0, 0};
}

}  // namespace tessera

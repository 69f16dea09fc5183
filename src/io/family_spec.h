// What tessera knows about each model family, one row per family (family_spec.cpp): the
// config.json model_type values it answers to, the class defaults transformers fills in for
// absent keys (spec §1.2), and the switches that make the families differ (layer pattern, which
// layers are MoE, shared expert, norm kind, attention output gate). Parsing (model_config.cpp),
// the layer loaders (model/) and the shard plan read these rows instead of testing the family.
// Adding a family: a row here, its layer loader (model/<family>.cpp) and its line in the
// model-side loader table (model/decoder_layer.cpp, checked at compile time to cover every row).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tessera {

enum class Family { kQwen35Moe, kQwen35, kQwen3Next, kQwen3Moe };
inline constexpr size_t kFamilyCount = 4;

// Which layers are full attention (the rest are Gated DeltaNet).
enum class LayerPattern {
  kAllFullAttention,  // every layer; layer_types / full_attention_interval are not read
  kHybrid,            // layer_types when given, else every full_attention_interval-th layer
};

// Which layers have a sparse MoE block instead of a dense SwiGLU MLP.
enum class MoeLayers {
  kNone,        // none; the MoE keys are not read
  kEvery,       // every layer; decoder_sparse_step and mlp_only_layers are not read
  kSparseStep,  // (layer + 1) % decoder_sparse_step == 0 and not in mlp_only_layers, if num_experts > 0
};

// transformers' configuration-class defaults, used where config.json omits the key.
struct FamilyDefaults {
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // 0: hidden_size / num_attention_heads
  int64_t intermediate_size = 0;
  double rope_theta = 0;
  double partial_rotary_factor = 0;
  int64_t full_attention_interval = 0;  // kHybrid only
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t shared_expert_intermediate_size = 0;  // when has_shared_expert
  bool norm_topk_prob = false;
};

struct FamilySpec {
  Family family;
  std::string_view name;                        // family_name(): "qwen3_5_moe"
  std::array<std::string_view, 2> model_types;  // config.json model_type values; "" = unused
  LayerPattern layer_pattern;
  MoeLayers moe_layers;
  bool has_shared_expert;           // MoE blocks add a sigmoid-gated shared expert
  bool router_always_renormalises;  // norm_topk_prob is not read and is always true (spec pitfall 13)
  // Every RMSNorm of the block (input, post-attention, final, q_norm, k_norm) scales by (1 + w);
  // HF stores w, MLX-sanitized checkpoints store 1 + w. Otherwise the norms scale by w.
  bool zero_centred_norms;
  bool attention_output_gate;  // q_proj holds a sigmoid gate beside each query head
  // An MLX switch_mlp expert stack marks the checkpoint MLX-sanitized even where conv1d cannot
  // tell (mlx-lm qwen3_next.py detects its own sanitize by the expert layout).
  bool switch_mlp_marks_mlx_sanitized;
  // mlx-lm saves a checkpoint of this family whose config nests text_config (the multimodal
  // class) under "language_model.model." and "language_model.lm_head.weight" (spec §2.6).
  bool mlx_prefixes_language_model;
  // Ids of the chat turn terminators <|im_end|> and <|endoftext|> in the family's released
  // vocabulary: generation stops there even when a base model's config omits them
  // (engine/stop_ids.h, which takes them only if the tokenizer names them so).
  std::array<int32_t, 2> chat_terminator_ids;
  FamilyDefaults defaults;
};

std::span<const FamilySpec> family_specs();
const FamilySpec& family_spec(Family family);
// The row whose model_types holds `model_type`; nullptr when none does.
const FamilySpec* find_family_spec(std::string_view model_type);
// "qwen3_5_moe, qwen3_5_moe_text, ..." for error messages.
std::string supported_model_types();

}  // namespace tessera

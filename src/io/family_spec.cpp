#include "io/family_spec.h"

#include "util/error.h"

namespace tessera {

namespace {

// Defaults from transformers' configuration_qwen3_5_moe.py, configuration_qwen3_5.py,
// configuration_qwen3_next.py and configuration_qwen3_moe.py (spec §1.2).
constexpr FamilySpec kFamilies[] = {
    {.family = Family::kQwen35Moe,
     .name = "qwen3_5_moe",
     .model_types = {"qwen3_5_moe", "qwen3_5_moe_text"},
     .layer_pattern = LayerPattern::kHybrid,
     .moe_layers = MoeLayers::kEvery,
     .has_shared_expert = true,
     .router_always_renormalises = true,
     .zero_centred_norms = true,
     .attention_output_gate = true,
     .switch_mlp_marks_mlx_sanitized = false,
     .mlx_prefixes_language_model = true,
     .chat_terminator_ids = {248046, 248044},
     .defaults = {.num_key_value_heads = 2, .head_dim = 256, .intermediate_size = 0, .rope_theta = 1e7,
                  .partial_rotary_factor = 0.25, .full_attention_interval = 4, .num_experts = 256,
                  .num_experts_per_tok = 8, .moe_intermediate_size = 512, .shared_expert_intermediate_size = 512,
                  .norm_topk_prob = true}},
    {.family = Family::kQwen35,
     .name = "qwen3_5",
     .model_types = {"qwen3_5", "qwen3_5_text"},
     .layer_pattern = LayerPattern::kHybrid,
     .moe_layers = MoeLayers::kNone,
     .has_shared_expert = false,
     .router_always_renormalises = false,
     .zero_centred_norms = true,
     .attention_output_gate = true,
     .switch_mlp_marks_mlx_sanitized = false,
     .mlx_prefixes_language_model = true,
     .chat_terminator_ids = {248046, 248044},
     .defaults = {.num_key_value_heads = 4, .head_dim = 256, .intermediate_size = 12288, .rope_theta = 1e7,
                  .partial_rotary_factor = 0.25, .full_attention_interval = 4, .norm_topk_prob = true}},
    {.family = Family::kQwen3Next,
     .name = "qwen3_next",
     .model_types = {"qwen3_next", ""},
     .layer_pattern = LayerPattern::kHybrid,
     .moe_layers = MoeLayers::kSparseStep,
     .has_shared_expert = true,
     .router_always_renormalises = false,
     .zero_centred_norms = true,
     .attention_output_gate = true,
     .switch_mlp_marks_mlx_sanitized = true,
     .mlx_prefixes_language_model = false,
     .chat_terminator_ids = {151645, 151643},
     .defaults = {.num_key_value_heads = 2, .head_dim = 256, .intermediate_size = 5632, .rope_theta = 1e7,
                  .partial_rotary_factor = 0.25, .full_attention_interval = 4, .num_experts = 512,
                  .num_experts_per_tok = 10, .moe_intermediate_size = 512, .shared_expert_intermediate_size = 512,
                  .norm_topk_prob = true}},
    {.family = Family::kQwen3Moe,
     .name = "qwen3_moe",
     .model_types = {"qwen3_moe", ""},
     .layer_pattern = LayerPattern::kAllFullAttention,
     .moe_layers = MoeLayers::kSparseStep,
     .has_shared_expert = false,
     .router_always_renormalises = false,
     .zero_centred_norms = false,
     .attention_output_gate = false,
     .switch_mlp_marks_mlx_sanitized = false,
     .mlx_prefixes_language_model = false,
     .chat_terminator_ids = {151645, 151643},
     .defaults = {.num_key_value_heads = 4, .head_dim = 0, .intermediate_size = 0, .rope_theta = 1e6,
                  .partial_rotary_factor = 1.0, .num_experts = 128, .num_experts_per_tok = 8,
                  .moe_intermediate_size = 768, .norm_topk_prob = false}},
};

static_assert(std::size(kFamilies) == kFamilyCount, "one row per Family");

constexpr bool rows_in_enum_order() {
  for (size_t i = 0; i < std::size(kFamilies); ++i)
    if (static_cast<size_t>(kFamilies[i].family) != i) return false;
  return true;
}
static_assert(rows_in_enum_order(), "kFamilies[i].family must be Family(i)");

}  // namespace

std::span<const FamilySpec> family_specs() { return kFamilies; }

const FamilySpec& family_spec(Family family) {
  const auto i = static_cast<size_t>(family);
  TS_CHECK(i < std::size(kFamilies), "unknown family {}", i);
  return kFamilies[i];
}

const FamilySpec* find_family_spec(std::string_view model_type) {
  for (const FamilySpec& spec : kFamilies)
    for (std::string_view type : spec.model_types)
      if (!type.empty() && type == model_type) return &spec;
  return nullptr;
}

std::string supported_model_types() {
  std::string out;
  for (const FamilySpec& spec : kFamilies)
    for (std::string_view type : spec.model_types)
      if (!type.empty()) out += (out.empty() ? "" : ", ") + std::string(type);
  return out;
}

}  // namespace tessera

// config.json ↔ ModelConfig. Field names follow Hugging Face's so one grep finds both.
// Spec: ../shared/spec/qwen35-architecture.md §1 (nesting, defaults, layer_types, RoPE).
// Per-family defaults and switches come from the family table (io/family_spec.h).
#pragma once

#include "io/family_spec.h"

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tessera {

enum class LayerType { kLinearAttention, kFullAttention };

std::string family_name(Family family);  // "qwen3_5_moe", ...

// MLX affine quantization (§5.4): global bits/group size plus per-module overrides keyed by
// module path without ".weight" (e.g. "language_model.model.layers.0.mlp.gate").
struct QuantizationConfig {
  int bits = 4;
  int group_size = 64;
  std::string mode = "affine";
  struct Override {
    bool quantized = true;
    int bits = 0;
    int group_size = 0;
    bool operator==(const Override&) const = default;
  };
  std::map<std::string, Override> overrides;
  bool operator==(const QuantizationConfig&) const = default;
};

struct ModelConfig {
  Family family = Family::kQwen35Moe;
  std::string model_type;       // top-level model_type
  bool nested_text_config = false;

  int64_t vocab_size = 0;                 // vocab_size (padded embedding rows)
  int64_t hidden_size = 0;                // hidden_size
  int64_t num_hidden_layers = 0;          // num_hidden_layers
  int64_t num_attention_heads = 0;        // num_attention_heads
  int64_t num_key_value_heads = 0;        // num_key_value_heads
  int64_t head_dim = 0;                   // head_dim (hidden_size / heads when absent)
  int64_t intermediate_size = 0;          // dense MLP width (qwen3_5, qwen3_next dense layers)
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 1e7;
  double partial_rotary_factor = 0.25;    // 1.0 for qwen3_moe
  bool tie_word_embeddings = false;
  std::vector<LayerType> layer_types;     // explicit layer_types, else full_attention_interval

  struct LinearAttention {
    int64_t num_key_heads = 16;           // linear_num_key_heads
    int64_t num_value_heads = 32;         // linear_num_value_heads
    int64_t key_head_dim = 128;           // linear_key_head_dim
    int64_t value_head_dim = 128;         // linear_value_head_dim
    int64_t conv_kernel = 4;              // linear_conv_kernel_dim
    int64_t key_dim() const { return num_key_heads * key_head_dim; }
    int64_t value_dim() const { return num_value_heads * value_head_dim; }
    int64_t conv_dim() const { return 2 * key_dim() + value_dim(); }
    bool operator==(const LinearAttention&) const = default;
  } linear;

  struct Moe {
    int64_t num_experts = 0;                      // num_experts (0: dense model)
    int64_t num_experts_per_tok = 0;              // num_experts_per_tok
    int64_t moe_intermediate_size = 0;            // moe_intermediate_size
    int64_t shared_expert_intermediate_size = 0;  // 0: no shared expert (qwen3_moe)
    bool norm_topk_prob = true;                   // qwen3_5_moe always renormalises
    int64_t decoder_sparse_step = 1;
    std::vector<int64_t> mlp_only_layers;
    bool operator==(const Moe&) const = default;
  } moe;

  std::vector<int64_t> eos_token_ids;      // config + generation_config.json, deduplicated
  std::optional<QuantizationConfig> quantization;

  const FamilySpec& spec() const { return family_spec(family); }
  bool is_moe_layer(int64_t layer) const;
  bool has_attention_output_gate() const { return spec().attention_output_gate; }
  bool zero_centred_norms() const { return spec().zero_centred_norms; }
  int64_t rotary_dim() const;
  int64_t num_full_attention_layers() const;

  void validate() const;  // cross-field rules; throws tessera::Error naming the fields
  bool operator==(const ModelConfig&) const = default;
};

// Reads <dir>/config.json and, when present, <dir>/generation_config.json.
ModelConfig load_model_config(const std::filesystem::path& dir);
ModelConfig parse_model_config(const std::string& json_text, const std::string& where);
// The inverse of parse_model_config: a config.json (nested under text_config when the source
// was) holding every field explicitly, so parse_model_config(to_json(c)) == c. `tessera info`
// prints it.
nlohmann::json model_config_to_json(const ModelConfig& config);

}  // namespace tessera

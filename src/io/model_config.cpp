#include "io/model_config.h"

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace tessera {

using nlohmann::json;

std::string family_name(Family family) { return std::string(family_spec(family).name); }

namespace {

struct Reader {
  const json& obj;
  const std::string& where;

  template <typename T>
  T required(const char* key) const {
    if (!obj.contains(key) || obj[key].is_null()) fail("{}: missing required field '{}'", where, key);
    return get<T>(key);
  }
  template <typename T>
  T optional(const char* key, T fallback) const {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    return get<T>(key);
  }
  template <typename T>
  T get(const char* key) const {
    try {
      return obj[key].get<T>();
    } catch (const json::exception&) {
      fail("{}: field '{}' has the wrong type: {}", where, key, obj[key].dump());
    }
  }
};

void append_eos(std::vector<int64_t>& ids, const json& value) {
  if (value.is_number_integer()) ids.push_back(value.get<int64_t>());
  else if (value.is_array())
    for (const auto& v : value)
      if (v.is_number_integer()) ids.push_back(v.get<int64_t>());
}

QuantizationConfig parse_quantization(const json& q, const std::string& where) {
  QuantizationConfig qc;
  Reader r{q, where};
  qc.bits = r.optional<int>("bits", 4);
  qc.group_size = r.optional<int>("group_size", 64);
  qc.mode = r.optional<std::string>("mode", "affine");
  if (qc.mode != "affine") fail("{}: quantization mode '{}' is not supported (only affine)", where, qc.mode);
  for (auto it = q.begin(); it != q.end(); ++it) {
    if (it.value().is_boolean()) {
      qc.overrides[it.key()] = {.quantized = it.value().get<bool>(), .bits = qc.bits, .group_size = qc.group_size};
    } else if (it.value().is_object()) {
      Reader o{it.value(), where};
      qc.overrides[it.key()] = {.quantized = true, .bits = o.optional<int>("bits", qc.bits),
                                .group_size = o.optional<int>("group_size", qc.group_size)};
    }
  }
  return qc;
}

// RoPE: rope_parameters (newer configs) or top-level rope_theta / partial_rotary_factor, which
// win when both are present.
void parse_rope(const json& t, const std::string& where, const FamilyDefaults& d, ModelConfig& c) {
  double theta = d.rope_theta;
  double partial = d.partial_rotary_factor;
  if (t.contains("rope_parameters") && t["rope_parameters"].is_object()) {
    Reader rp{t["rope_parameters"], where + " rope_parameters"};
    theta = rp.optional<double>("rope_theta", theta);
    partial = rp.optional<double>("partial_rotary_factor", partial);
    const std::string type = rp.optional<std::string>("rope_type", "default");
    if (type != "default") fail("{}: rope_type '{}' is not supported (only default)", where, type);
  }
  const Reader r{t, where};
  c.rope_theta = r.optional<double>("rope_theta", theta);
  c.partial_rotary_factor = r.optional<double>("partial_rotary_factor", partial);
  if (t.contains("rope_scaling") && !t["rope_scaling"].is_null())
    fail("{}: rope_scaling {} is not supported", where, t["rope_scaling"].dump());
}

// The MoE keys this family reads; the others keep the family's fixed values.
ModelConfig::Moe parse_moe(const Reader& r, const FamilySpec& spec) {
  const FamilyDefaults& d = spec.defaults;
  ModelConfig::Moe m;
  m.num_experts = r.optional<int64_t>("num_experts", d.num_experts);
  m.num_experts_per_tok = r.optional<int64_t>("num_experts_per_tok", d.num_experts_per_tok);
  m.moe_intermediate_size = r.optional<int64_t>("moe_intermediate_size", d.moe_intermediate_size);
  if (spec.has_shared_expert)
    m.shared_expert_intermediate_size =
        r.optional<int64_t>("shared_expert_intermediate_size", d.shared_expert_intermediate_size);
  // Qwen3.5-MoE has no norm_topk_prob: its router always renormalises (spec §3.6, pitfall 13).
  m.norm_topk_prob = spec.router_always_renormalises || r.optional<bool>("norm_topk_prob", d.norm_topk_prob);
  if (spec.moe_layers == MoeLayers::kSparseStep) {
    m.decoder_sparse_step = r.optional<int64_t>("decoder_sparse_step", 1);
    m.mlp_only_layers = r.optional<std::vector<int64_t>>("mlp_only_layers", {});
  }
  return m;
}

std::vector<LayerType> parse_layer_types(const json& t, const std::string& where, const FamilySpec& spec,
                                         int64_t num_layers) {
  std::vector<LayerType> types;
  if (spec.layer_pattern == LayerPattern::kAllFullAttention) {
    types.assign(static_cast<size_t>(std::max<int64_t>(num_layers, 0)), LayerType::kFullAttention);
  } else if (t.contains("layer_types") && t["layer_types"].is_array()) {
    for (const auto& v : t["layer_types"]) {
      const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
      if (s == "linear_attention") types.push_back(LayerType::kLinearAttention);
      else if (s == "full_attention") types.push_back(LayerType::kFullAttention);
      else fail("{}: layer_types entry '{}' is not linear_attention or full_attention", where, s);
    }
  } else {
    const int64_t interval =
        Reader{t, where}.optional<int64_t>("full_attention_interval", spec.defaults.full_attention_interval);
    if (interval <= 0) fail("{}: full_attention_interval must be positive, got {}", where, interval);
    for (int64_t i = 0; i < num_layers; ++i)
      types.push_back((i + 1) % interval == 0 ? LayerType::kFullAttention : LayerType::kLinearAttention);
  }
  return types;
}

}  // namespace

bool ModelConfig::is_moe_layer(int64_t layer) const {
  switch (spec().moe_layers) {
    case MoeLayers::kNone: return false;
    case MoeLayers::kEvery: return true;
    case MoeLayers::kSparseStep:
      if (moe.num_experts <= 0) return false;
      if (std::find(moe.mlp_only_layers.begin(), moe.mlp_only_layers.end(), layer) != moe.mlp_only_layers.end())
        return false;
      return (layer + 1) % std::max<int64_t>(moe.decoder_sparse_step, 1) == 0;
  }
  return false;
}

int64_t ModelConfig::rotary_dim() const {
  return static_cast<int64_t>(static_cast<double>(head_dim) * partial_rotary_factor);
}

int64_t ModelConfig::num_full_attention_layers() const {
  return std::count(layer_types.begin(), layer_types.end(), LayerType::kFullAttention);
}

ModelConfig parse_model_config(const std::string& text, const std::string& where) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", where, e.what());
  }
  if (!root.is_object()) fail("{}: top level is not an object", where);
  ModelConfig c;
  c.model_type = Reader{root, where}.required<std::string>("model_type");
  const bool nested = root.contains("text_config") && root["text_config"].is_object();
  c.nested_text_config = nested;
  const json& t = nested ? root["text_config"] : root;
  const std::string text_where = nested ? where + " (text_config)" : where;
  Reader r{t, text_where};

  const FamilySpec* spec = find_family_spec(c.model_type);
  if (!spec) fail("{}: model_type '{}' is not supported ({} are)", where, c.model_type, supported_model_types());
  c.family = spec->family;
  const FamilyDefaults& d = spec->defaults;

  c.vocab_size = r.required<int64_t>("vocab_size");
  c.hidden_size = r.required<int64_t>("hidden_size");
  c.num_hidden_layers = r.required<int64_t>("num_hidden_layers");
  c.num_attention_heads = r.required<int64_t>("num_attention_heads");
  c.num_key_value_heads = r.optional<int64_t>("num_key_value_heads", d.num_key_value_heads);
  c.head_dim = r.optional<int64_t>(
      "head_dim", d.head_dim > 0 ? d.head_dim : c.hidden_size / std::max<int64_t>(c.num_attention_heads, 1));
  c.intermediate_size = r.optional<int64_t>("intermediate_size", d.intermediate_size);
  c.max_position_embeddings = r.optional<int64_t>("max_position_embeddings", 32768);
  c.rms_norm_eps = r.optional<double>("rms_norm_eps", 1e-6);
  // tie_word_embeddings lives both at top level and in text_config; the text one wins.
  c.tie_word_embeddings = r.optional<bool>("tie_word_embeddings", Reader{root, where}.optional<bool>("tie_word_embeddings", false));
  parse_rope(t, text_where, d, c);

  auto& la = c.linear;
  la.num_key_heads = r.optional<int64_t>("linear_num_key_heads", 16);
  la.num_value_heads = r.optional<int64_t>("linear_num_value_heads", 32);
  la.key_head_dim = r.optional<int64_t>("linear_key_head_dim", 128);
  la.value_head_dim = r.optional<int64_t>("linear_value_head_dim", 128);
  la.conv_kernel = r.optional<int64_t>("linear_conv_kernel_dim", 4);

  if (spec->moe_layers != MoeLayers::kNone) c.moe = parse_moe(r, *spec);
  c.layer_types = parse_layer_types(t, text_where, *spec, c.num_hidden_layers);

  if (t.contains("eos_token_id")) append_eos(c.eos_token_ids, t["eos_token_id"]);
  if (nested && root.contains("eos_token_id")) append_eos(c.eos_token_ids, root["eos_token_id"]);

  const json* q = nullptr;
  if (root.contains("quantization") && root["quantization"].is_object()) q = &root["quantization"];
  else if (root.contains("quantization_config") && root["quantization_config"].is_object()) q = &root["quantization_config"];
  else if (nested && t.contains("quantization_config") && t["quantization_config"].is_object()) q = &t["quantization_config"];
  if (q) c.quantization = parse_quantization(*q, where + " quantization");

  c.validate();
  return c;
}

namespace {

json quantization_to_json(const QuantizationConfig& q) {
  json out = {{"bits", q.bits}, {"group_size", q.group_size}, {"mode", q.mode}};
  for (const auto& [module, o] : q.overrides) {
    if (o.quantized) out[module] = {{"bits", o.bits}, {"group_size", o.group_size}};
    else out[module] = false;
  }
  return out;
}

}  // namespace

json model_config_to_json(const ModelConfig& c) {
  json layer_types = json::array();
  for (LayerType t : c.layer_types)
    layer_types.push_back(t == LayerType::kFullAttention ? "full_attention" : "linear_attention");
  json text = {
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads},
      {"head_dim", c.head_dim},
      {"intermediate_size", c.intermediate_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta},
      {"partial_rotary_factor", c.partial_rotary_factor},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"layer_types", layer_types},
      {"linear_num_key_heads", c.linear.num_key_heads},
      {"linear_num_value_heads", c.linear.num_value_heads},
      {"linear_key_head_dim", c.linear.key_head_dim},
      {"linear_value_head_dim", c.linear.value_head_dim},
      {"linear_conv_kernel_dim", c.linear.conv_kernel},
      {"num_experts", c.moe.num_experts},
      {"num_experts_per_tok", c.moe.num_experts_per_tok},
      {"moe_intermediate_size", c.moe.moe_intermediate_size},
      {"shared_expert_intermediate_size", c.moe.shared_expert_intermediate_size},
      {"norm_topk_prob", c.moe.norm_topk_prob},
      {"decoder_sparse_step", c.moe.decoder_sparse_step},
      {"mlp_only_layers", c.moe.mlp_only_layers},
      {"eos_token_id", c.eos_token_ids},
  };
  json root = {{"model_type", c.model_type}};
  if (c.nested_text_config) root["text_config"] = std::move(text);
  else root.update(text);
  if (c.quantization) root["quantization"] = quantization_to_json(*c.quantization);
  return root;
}

void ModelConfig::validate() const {
  auto positive = [](int64_t v, const char* name) {
    if (v <= 0) fail("config.json: '{}' must be positive, got {}", name, v);
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(num_hidden_layers, "num_hidden_layers");
  positive(num_attention_heads, "num_attention_heads");
  positive(num_key_value_heads, "num_key_value_heads");
  positive(head_dim, "head_dim");
  if (static_cast<int64_t>(layer_types.size()) != num_hidden_layers)
    fail("config.json: layer_types has {} entries but num_hidden_layers is {}", layer_types.size(), num_hidden_layers);
  if (num_attention_heads % num_key_value_heads != 0)
    fail("config.json: num_attention_heads {} is not a multiple of num_key_value_heads {}", num_attention_heads,
         num_key_value_heads);
  const int64_t rot = rotary_dim();
  if (rot <= 0 || rot > head_dim || rot % 2 != 0)
    fail("config.json: rotary dim head_dim*partial_rotary_factor = {} must be even and in (0, head_dim]", rot);
  if (spec().layer_pattern == LayerPattern::kHybrid) {
    positive(linear.num_key_heads, "linear_num_key_heads");
    positive(linear.num_value_heads, "linear_num_value_heads");
    positive(linear.key_head_dim, "linear_key_head_dim");
    positive(linear.value_head_dim, "linear_value_head_dim");
    positive(linear.conv_kernel, "linear_conv_kernel_dim");
    if (linear.num_value_heads % linear.num_key_heads != 0)
      fail("config.json: linear_num_value_heads {} is not a multiple of linear_num_key_heads {}",
           linear.num_value_heads, linear.num_key_heads);
  }
  bool any_moe = false, any_dense = false;
  for (int64_t i = 0; i < num_hidden_layers; ++i) (is_moe_layer(i) ? any_moe : any_dense) = true;
  if (any_moe) {
    positive(moe.num_experts, "num_experts");
    positive(moe.num_experts_per_tok, "num_experts_per_tok");
    positive(moe.moe_intermediate_size, "moe_intermediate_size");
    if (moe.num_experts_per_tok > moe.num_experts)
      fail("config.json: num_experts_per_tok {} exceeds num_experts {}", moe.num_experts_per_tok, moe.num_experts);
  }
  if (any_dense) positive(intermediate_size, "intermediate_size");
}

ModelConfig load_model_config(const std::filesystem::path& dir) {
  const auto path = dir / "config.json";
  std::ifstream in(path);
  if (!in) fail("cannot read {}: is --model a checkpoint directory?", path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  ModelConfig c = parse_model_config(ss.str(), path.string());
  const auto gen_path = dir / "generation_config.json";
  if (std::filesystem::exists(gen_path)) {
    std::ifstream g(gen_path);
    try {
      json gen = json::parse(g);
      if (gen.contains("eos_token_id")) append_eos(c.eos_token_ids, gen["eos_token_id"]);
    } catch (const json::exception& e) {
      fail("{}: not valid JSON: {}", gen_path.string(), e.what());
    }
  }
  std::sort(c.eos_token_ids.begin(), c.eos_token_ids.end());
  c.eos_token_ids.erase(std::unique(c.eos_token_ids.begin(), c.eos_token_ids.end()), c.eos_token_ids.end());
  return c;
}

}  // namespace tessera

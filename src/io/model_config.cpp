#include "io/model_config.h"

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace tessera {

using nlohmann::json;

std::string family_name(Family family) {
  switch (family) {
    case Family::kQwen35Moe: return "qwen3_5_moe";
    case Family::kQwen35: return "qwen3_5";
    case Family::kQwen3Next: return "qwen3_next";
    case Family::kQwen3Moe: return "qwen3_moe";
  }
  return "?";
}

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

}  // namespace

bool ModelConfig::is_moe_layer(int64_t layer) const {
  if (family == Family::kQwen35) return false;
  if (family == Family::kQwen35Moe) return true;
  if (moe.num_experts <= 0) return false;
  if (std::find(moe.mlp_only_layers.begin(), moe.mlp_only_layers.end(), layer) != moe.mlp_only_layers.end())
    return false;
  return (layer + 1) % std::max<int64_t>(moe.decoder_sparse_step, 1) == 0;
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

  const std::string& mt = c.model_type;
  if (mt == "qwen3_5_moe" || mt == "qwen3_5_moe_text") c.family = Family::kQwen35Moe;
  else if (mt == "qwen3_5" || mt == "qwen3_5_text") c.family = Family::kQwen35;
  else if (mt == "qwen3_next") c.family = Family::kQwen3Next;
  else if (mt == "qwen3_moe") c.family = Family::kQwen3Moe;
  else fail("{}: model_type '{}' is not supported (qwen3_5_moe, qwen3_5, qwen3_next, qwen3_moe and the _text variants are)", where, mt);

  // Class defaults from transformers' configuration files (spec §1.2).
  const bool moe35 = c.family == Family::kQwen35Moe, dense35 = c.family == Family::kQwen35;
  const bool next = c.family == Family::kQwen3Next, qmoe = c.family == Family::kQwen3Moe;
  c.vocab_size = r.required<int64_t>("vocab_size");
  c.hidden_size = r.required<int64_t>("hidden_size");
  c.num_hidden_layers = r.required<int64_t>("num_hidden_layers");
  c.num_attention_heads = r.required<int64_t>("num_attention_heads");
  c.num_key_value_heads = r.optional<int64_t>("num_key_value_heads", dense35 ? 4 : (qmoe ? 4 : 2));
  c.head_dim = r.optional<int64_t>("head_dim", qmoe ? c.hidden_size / std::max<int64_t>(c.num_attention_heads, 1) : 256);
  c.intermediate_size = r.optional<int64_t>("intermediate_size", dense35 ? 12288 : (next ? 5632 : 0));
  c.max_position_embeddings = r.optional<int64_t>("max_position_embeddings", 32768);
  c.rms_norm_eps = r.optional<double>("rms_norm_eps", 1e-6);
  // tie_word_embeddings lives both at top level and in text_config; the text one wins.
  c.tie_word_embeddings = r.optional<bool>("tie_word_embeddings", Reader{root, where}.optional<bool>("tie_word_embeddings", false));

  double theta = qmoe ? 1e6 : 1e7;
  double partial = qmoe ? 1.0 : 0.25;
  if (t.contains("rope_parameters") && t["rope_parameters"].is_object()) {
    Reader rp{t["rope_parameters"], text_where + " rope_parameters"};
    theta = rp.optional<double>("rope_theta", theta);
    partial = rp.optional<double>("partial_rotary_factor", partial);
    const std::string type = rp.optional<std::string>("rope_type", "default");
    if (type != "default") fail("{}: rope_type '{}' is not supported (only default)", text_where, type);
  }
  c.rope_theta = r.optional<double>("rope_theta", theta);
  c.partial_rotary_factor = r.optional<double>("partial_rotary_factor", partial);
  if (t.contains("rope_scaling") && !t["rope_scaling"].is_null())
    fail("{}: rope_scaling {} is not supported", text_where, t["rope_scaling"].dump());

  auto& la = c.linear;
  la.num_key_heads = r.optional<int64_t>("linear_num_key_heads", 16);
  la.num_value_heads = r.optional<int64_t>("linear_num_value_heads", 32);
  la.key_head_dim = r.optional<int64_t>("linear_key_head_dim", 128);
  la.value_head_dim = r.optional<int64_t>("linear_value_head_dim", 128);
  la.conv_kernel = r.optional<int64_t>("linear_conv_kernel_dim", 4);

  auto& m = c.moe;
  if (moe35 || next || qmoe) {
    m.num_experts = r.optional<int64_t>("num_experts", moe35 ? 256 : (next ? 512 : 128));
    m.num_experts_per_tok = r.optional<int64_t>("num_experts_per_tok", moe35 ? 8 : (next ? 10 : 8));
    m.moe_intermediate_size = r.optional<int64_t>("moe_intermediate_size", qmoe ? 768 : 512);
    m.shared_expert_intermediate_size = qmoe ? 0 : r.optional<int64_t>("shared_expert_intermediate_size", 512);
    // Qwen3.5-MoE has no norm_topk_prob: its router always renormalises (spec §3.6, pitfall 13).
    m.norm_topk_prob = moe35 ? true : r.optional<bool>("norm_topk_prob", next);  // HF class defaults: next true, qwen3_moe false
    m.decoder_sparse_step = moe35 ? 1 : r.optional<int64_t>("decoder_sparse_step", 1);
    if (!moe35) m.mlp_only_layers = r.optional<std::vector<int64_t>>("mlp_only_layers", {});
  }

  if (qmoe) {
    c.layer_types.assign(c.num_hidden_layers, LayerType::kFullAttention);
  } else if (t.contains("layer_types") && t["layer_types"].is_array()) {
    for (const auto& v : t["layer_types"]) {
      const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
      if (s == "linear_attention") c.layer_types.push_back(LayerType::kLinearAttention);
      else if (s == "full_attention") c.layer_types.push_back(LayerType::kFullAttention);
      else fail("{}: layer_types entry '{}' is not linear_attention or full_attention", text_where, s);
    }
  } else {
    const int64_t interval = r.optional<int64_t>("full_attention_interval", 4);
    if (interval <= 0) fail("{}: full_attention_interval must be positive, got {}", text_where, interval);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i)
      c.layer_types.push_back((i + 1) % interval == 0 ? LayerType::kFullAttention : LayerType::kLinearAttention);
  }

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
  if (family != Family::kQwen3Moe) {
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

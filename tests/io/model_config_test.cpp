// config.json parsing: each family's class defaults from a minimal config, required-field errors
// that name the field, nested text_config vs flat, and the parse → to_json → parse round trip on
// the golden checkpoints' configs. Expected defaults are transformers' configuration-class
// defaults (spec §1.2), written out here rather than read from the family table.
#include "io/model_config.h"
#include "util/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tessera {
namespace {

using nlohmann::json;

json minimal(const std::string& model_type) {
  return {{"model_type", model_type}, {"vocab_size", 1000}, {"hidden_size", 64}, {"num_hidden_layers", 8},
          {"num_attention_heads", 16}};
}

ModelConfig parse(const json& j) { return parse_model_config(j.dump(), "config.json"); }

std::string error_of(const json& j) {
  try {
    parse(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<LayerType> every_fourth_full(int n) {
  std::vector<LayerType> out;
  for (int i = 0; i < n; ++i) out.push_back((i + 1) % 4 == 0 ? LayerType::kFullAttention : LayerType::kLinearAttention);
  return out;
}

TEST(ModelConfigDefaults, Qwen35Moe) {
  for (const char* type : {"qwen3_5_moe", "qwen3_5_moe_text"}) {
    const ModelConfig c = parse(minimal(type));
    EXPECT_EQ(c.family, Family::kQwen35Moe);
    EXPECT_EQ(c.num_key_value_heads, 2);
    EXPECT_EQ(c.head_dim, 256);
    EXPECT_EQ(c.rope_theta, 1e7);
    EXPECT_EQ(c.partial_rotary_factor, 0.25);
    EXPECT_EQ(c.layer_types, every_fourth_full(8));
    EXPECT_EQ(c.moe.num_experts, 256);
    EXPECT_EQ(c.moe.num_experts_per_tok, 8);
    EXPECT_EQ(c.moe.moe_intermediate_size, 512);
    EXPECT_EQ(c.moe.shared_expert_intermediate_size, 512);
    EXPECT_TRUE(c.moe.norm_topk_prob);
    for (int64_t i = 0; i < 8; ++i) EXPECT_TRUE(c.is_moe_layer(i)) << i;
    EXPECT_TRUE(c.has_attention_output_gate());
    EXPECT_TRUE(c.zero_centred_norms());
  }
}

TEST(ModelConfigDefaults, Qwen35MoeIgnoresNormTopkAndSparseStep) {
  // The Qwen3.5-MoE router always renormalises and every layer is MoE, whatever the keys say.
  json j = minimal("qwen3_5_moe");
  j["norm_topk_prob"] = false;
  j["decoder_sparse_step"] = 2;
  j["mlp_only_layers"] = {0};
  const ModelConfig c = parse(j);
  EXPECT_TRUE(c.moe.norm_topk_prob);
  EXPECT_TRUE(c.is_moe_layer(0));
  EXPECT_TRUE(c.is_moe_layer(2));
}

TEST(ModelConfigDefaults, Qwen35Dense) {
  for (const char* type : {"qwen3_5", "qwen3_5_text"}) {
    json j = minimal(type);
    j["num_experts"] = 8;  // not a key of the dense family: ignored
    const ModelConfig c = parse(j);
    EXPECT_EQ(c.family, Family::kQwen35);
    EXPECT_EQ(c.num_key_value_heads, 4);
    EXPECT_EQ(c.head_dim, 256);
    EXPECT_EQ(c.intermediate_size, 12288);
    EXPECT_EQ(c.layer_types, every_fourth_full(8));
    EXPECT_EQ(c.moe.num_experts, 0);
    for (int64_t i = 0; i < 8; ++i) EXPECT_FALSE(c.is_moe_layer(i)) << i;
    EXPECT_TRUE(c.has_attention_output_gate());
  }
}

TEST(ModelConfigDefaults, Qwen3Next) {
  const ModelConfig c = parse(minimal("qwen3_next"));
  EXPECT_EQ(c.family, Family::kQwen3Next);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.intermediate_size, 5632);
  EXPECT_EQ(c.rope_theta, 1e7);
  EXPECT_EQ(c.partial_rotary_factor, 0.25);
  EXPECT_EQ(c.moe.num_experts, 512);
  EXPECT_EQ(c.moe.num_experts_per_tok, 10);
  EXPECT_EQ(c.moe.moe_intermediate_size, 512);
  EXPECT_EQ(c.moe.shared_expert_intermediate_size, 512);
  EXPECT_TRUE(c.moe.norm_topk_prob);
  EXPECT_EQ(c.layer_types, every_fourth_full(8));
}

TEST(ModelConfigDefaults, Qwen3NextSparseStepAndMlpOnlyLayers) {
  json j = minimal("qwen3_next");
  j["decoder_sparse_step"] = 2;
  j["mlp_only_layers"] = {3};
  j["full_attention_interval"] = 2;
  const ModelConfig c = parse(j);
  const bool expected_moe[] = {false, true, false, false, false, true, false, true};
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(c.is_moe_layer(i), expected_moe[i]) << i;
  for (int64_t i = 0; i < 8; ++i)
    EXPECT_EQ(c.layer_types[i], i % 2 == 1 ? LayerType::kFullAttention : LayerType::kLinearAttention) << i;
}

TEST(ModelConfigDefaults, Qwen3Moe) {
  json j = minimal("qwen3_moe");
  j["layer_types"] = json::array({"linear_attention"});  // not a key of this family: ignored
  const ModelConfig c = parse(j);
  EXPECT_EQ(c.family, Family::kQwen3Moe);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 64 / 16);  // hidden_size / num_attention_heads
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.partial_rotary_factor, 1.0);
  EXPECT_EQ(c.moe.num_experts, 128);
  EXPECT_EQ(c.moe.num_experts_per_tok, 8);
  EXPECT_EQ(c.moe.moe_intermediate_size, 768);
  EXPECT_EQ(c.moe.shared_expert_intermediate_size, 0);
  EXPECT_FALSE(c.moe.norm_topk_prob);
  EXPECT_EQ(c.layer_types, std::vector<LayerType>(8, LayerType::kFullAttention));
  EXPECT_FALSE(c.has_attention_output_gate());
  EXPECT_FALSE(c.zero_centred_norms());
}

TEST(ModelConfigErrors, RequiredFieldsAreNamed) {
  for (const char* field : {"model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads"}) {
    json j = minimal("qwen3_5_moe");
    j.erase(field);
    EXPECT_NE(error_of(j).find(std::string("missing required field '") + field + "'"), std::string::npos)
        << field << ": " << error_of(j);
  }
}

TEST(ModelConfigErrors, RequiredFieldInTextConfigNamesTheSection) {
  json j = {{"model_type", "qwen3_5_moe"}, {"text_config", minimal("qwen3_5_moe_text")}};
  j["text_config"].erase("hidden_size");
  const std::string e = error_of(j);
  EXPECT_NE(e.find("(text_config)"), std::string::npos) << e;
  EXPECT_NE(e.find("'hidden_size'"), std::string::npos) << e;
}

TEST(ModelConfigErrors, UnknownModelTypeListsTheSupportedOnes) {
  const std::string e = error_of(minimal("llama"));
  EXPECT_NE(e.find("model_type 'llama' is not supported"), std::string::npos) << e;
  for (const char* type : {"qwen3_5_moe_text", "qwen3_5_text", "qwen3_next", "qwen3_moe"})
    EXPECT_NE(e.find(type), std::string::npos) << type;
}

TEST(ModelConfigErrors, WrongTypeAndBadValues) {
  json j = minimal("qwen3_5_moe");
  j["hidden_size"] = "sixty-four";
  EXPECT_NE(error_of(j).find("field 'hidden_size' has the wrong type"), std::string::npos);
  j = minimal("qwen3_5_moe");
  j["num_key_value_heads"] = 3;  // 16 % 3 != 0
  EXPECT_NE(error_of(j).find("num_key_value_heads 3"), std::string::npos);
  j = minimal("qwen3_5_moe");
  j["rope_parameters"] = {{"rope_type", "yarn"}};
  EXPECT_NE(error_of(j).find("rope_type 'yarn' is not supported"), std::string::npos);
}

TEST(ModelConfigNesting, TextConfigEqualsFlat) {
  json text = minimal("qwen3_5_moe_text");
  text["eos_token_id"] = 7;
  text["tie_word_embeddings"] = true;
  const json nested = {{"model_type", "qwen3_5_moe"}, {"tie_word_embeddings", false}, {"eos_token_id", 9},
                       {"text_config", text}};
  json flat = text;
  flat["model_type"] = "qwen3_5_moe";
  flat["eos_token_id"] = {7, 9};
  ModelConfig a = parse(nested), b = parse(flat);
  EXPECT_TRUE(a.nested_text_config);
  EXPECT_FALSE(b.nested_text_config);
  EXPECT_TRUE(a.tie_word_embeddings);  // text_config's value wins over the top level's
  EXPECT_EQ(a.eos_token_ids, (std::vector<int64_t>{7, 9}));
  a.nested_text_config = b.nested_text_config;
  EXPECT_EQ(a, b);
}

TEST(ModelConfigNesting, RopeParametersAndTopLevelRope) {
  json j = minimal("qwen3_5_moe");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e6}, {"partial_rotary_factor", 0.5}};
  ModelConfig c = parse(j);
  EXPECT_EQ(c.rope_theta, 5e6);
  EXPECT_EQ(c.partial_rotary_factor, 0.5);
  j["rope_theta"] = 3e6;  // the top-level key wins
  EXPECT_EQ(parse(j).rope_theta, 3e6);
}

void expect_round_trip(const ModelConfig& c, const std::string& what) {
  const ModelConfig again = parse_model_config(model_config_to_json(c).dump(), what + " (to_json)");
  EXPECT_EQ(again, c) << what << "\n" << model_config_to_json(c).dump();
}

TEST(ModelConfigRoundTrip, EveryFamilyMinimalAndCustomised) {
  for (const char* type : {"qwen3_5_moe", "qwen3_5_moe_text", "qwen3_5", "qwen3_5_text", "qwen3_next", "qwen3_moe"}) {
    expect_round_trip(parse(minimal(type)), type);
    json j = minimal(type);
    j["layer_types"] = {"full_attention", "linear_attention", "linear_attention", "full_attention",
                        "linear_attention", "linear_attention", "linear_attention", "full_attention"};
    j["mlp_only_layers"] = {1, 2};
    j["decoder_sparse_step"] = 2;
    j["intermediate_size"] = 128;  // qwen3_moe's mlp_only_layers need a dense width
    j["eos_token_id"] = {3, 1};
    j["tie_word_embeddings"] = true;
    j["quantization"] = {{"bits", 4}, {"group_size", 32},
                         {"model.layers.0.mlp.gate", {{"bits", 8}, {"group_size", 64}}},
                         {"lm_head", false}, {"model.embed_tokens", true}};
    expect_round_trip(parse(j), std::string(type) + " customised");
    expect_round_trip(parse({{"model_type", type}, {"text_config", j}}), std::string(type) + " nested");
  }
}

TEST(ModelConfigRoundTrip, GoldenCheckpoints) {
  const std::filesystem::path golden = std::filesystem::path(TESSERA_TEST_DATA_DIR) / "golden";
  ASSERT_TRUE(std::filesystem::exists(golden)) << "no golden checkpoints at " << golden;
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(golden)) {
    const auto path = entry.path() / "config.json";
    if (!std::filesystem::exists(path)) continue;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    expect_round_trip(parse_model_config(text.str(), path.string()), path.string());
    expect_round_trip(load_model_config(entry.path()), entry.path().string() + " with generation_config");
    ++seen;
  }
  EXPECT_GE(seen, 4);
}

}  // namespace
}  // namespace tessera

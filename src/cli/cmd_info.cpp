// tessera info --model DIR : the parsed config, parameter counts (total and active per token)
// and bytes of weights read per decoded token, computed from the checkpoint's shapes.
#include "cli/command.h"
#include "cli/runtime.h"
#include "model/model.h"

namespace tessera::cli {
namespace {

void run(const std::string& model, const std::string& quantize) {
  const ModelConfig c = load_model_config(model);
  const auto plan = Model::plan_all_ranks(model, 1, ModelOptions{0, quantize}.load_options()).front();
  int64_t total = 0, active = 0, bytes = 0, active_bytes = 0;
  const double expert_share = c.moe.num_experts > 0
                                  ? static_cast<double>(c.moe.num_experts_per_tok) / static_cast<double>(c.moe.num_experts)
                                  : 1.0;
  for (const PlanRecord& rec : plan) {
    const bool routed = rec.tensor.find(".experts.") != std::string::npos || rec.tensor.find(".switch_mlp.") != std::string::npos;
    const bool embedding = rec.tensor.find("embed_tokens") != std::string::npos;
    if (embedding && c.tie_word_embeddings && rec.split != Split::kReplicated) continue;  // head = embedding
    total += rec.params;
    bytes += static_cast<int64_t>(rec.bytes);
    if (embedding) {
      active += c.hidden_size;  // one row gathered per token
      active_bytes += static_cast<int64_t>(rec.bytes) / c.vocab_size;
    } else {
      active += static_cast<int64_t>(static_cast<double>(rec.params) * (routed ? expert_share : 1.0));
      active_bytes += static_cast<int64_t>(static_cast<double>(rec.bytes) * (routed ? expert_share : 1.0));
    }
  }
  nlohmann::json layer_types = nlohmann::json::array();
  for (LayerType t : c.layer_types) layer_types.push_back(t == LayerType::kFullAttention ? "full_attention" : "linear_attention");
  print_json({{"family", family_name(c.family)},
              {"model_type", c.model_type},
              {"config",
               {{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size}, {"num_hidden_layers", c.num_hidden_layers},
                {"num_attention_heads", c.num_attention_heads}, {"num_key_value_heads", c.num_key_value_heads},
                {"head_dim", c.head_dim}, {"intermediate_size", c.intermediate_size}, {"rms_norm_eps", c.rms_norm_eps},
                {"rope_theta", c.rope_theta}, {"partial_rotary_factor", c.partial_rotary_factor},
                {"tie_word_embeddings", c.tie_word_embeddings}, {"layer_types", layer_types},
                {"linear_num_key_heads", c.linear.num_key_heads}, {"linear_num_value_heads", c.linear.num_value_heads},
                {"linear_key_head_dim", c.linear.key_head_dim}, {"linear_value_head_dim", c.linear.value_head_dim},
                {"linear_conv_kernel_dim", c.linear.conv_kernel}, {"num_experts", c.moe.num_experts},
                {"num_experts_per_tok", c.moe.num_experts_per_tok}, {"moe_intermediate_size", c.moe.moe_intermediate_size},
                {"shared_expert_intermediate_size", c.moe.shared_expert_intermediate_size},
                {"norm_topk_prob", c.moe.norm_topk_prob}, {"eos_token_ids", c.eos_token_ids},
                {"quantized", c.quantization.has_value()}}},
              {"parameters_total", total},
              {"parameters_active_per_token", active},
              {"weight_bytes_total", bytes},
              {"weight_bytes_per_token", active_bytes},
              {"valid_tensor_parallel_sizes", valid_world_sizes(c)}});
}

const bool registered = register_command({"info", "Describe a checkpoint: config, parameters, bytes per token", [](CLI::App& sub) {
  auto model = std::make_shared<std::string>();
  auto quantize = std::make_shared<std::string>();
  sub.add_option("--model", *model, "checkpoint directory")->required();
  sub.add_option("--quantize", *quantize, "report bytes as if loaded with --quantize q8|q6|q4");
  sub.callback([model, quantize] { run(*model, *quantize); });
}});

}  // namespace
}  // namespace tessera::cli

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
    const bool routed = rec.role == TensorRole::kRoutedExpert;
    const bool embedding = rec.role == TensorRole::kEmbedding;
    if (rec.role == TensorRole::kLmHead && c.tie_word_embeddings) continue;  // head = embedding, counted once
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
  print_json({{"family", family_name(c.family)},
              {"model_type", c.model_type},
              {"config", model_config_to_json(c)},
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

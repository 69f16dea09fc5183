// tessera generate --model DIR --tokens 1,2,3 --max-tokens N [--temperature T --top-k K
//                  --top-p P --min-p M --seed S]
//   → {"tokens":[...generated ids...],"finish_reason":"stop"|"length", ...timings}
#include "cli/command.h"
#include "cli/runtime.h"
#include "engine/generate.h"

namespace tessera::cli {
namespace {

struct GenerateOptions {
  std::string model;
  std::string tokens;
  int64_t max_tokens = 16;
  SamplingParams sampling;
  uint64_t seed = 0;
  bool has_seed = false;
  ModelOptions model_options;
};

void run(GenerateOptions o) {
  GenerateRequest req;
  req.prompt = parse_id_list(o.tokens, "--tokens");
  if (req.prompt.empty()) fail("--tokens: give at least one token id");
  if (o.max_tokens < 0) fail("--max-tokens must be >= 0");
  req.max_tokens = o.max_tokens;
  if (o.has_seed) o.sampling.seed = o.seed;
  req.sampling = o.sampling;
  run_model_command(o.model_options, o.model, [&](LockstepEngine& engine, Runtime&) {
    for (int64_t id : engine.model().config().eos_token_ids) req.stop_ids.insert(static_cast<int32_t>(id));
    const GenerateResult result = generate(engine, 0, req);
    print_json({{"tokens", result.tokens},
                {"finish_reason", result.finish_reason},
                {"prompt_tokens", req.prompt.size()},
                {"prompt_seconds", result.prompt_seconds},
                {"generate_seconds", result.generate_seconds},
                {"tokens_per_second", result.generate_seconds > 0 ? static_cast<double>(result.tokens.size()) / result.generate_seconds : 0.0}});
  });
}

const bool registered = register_command({"generate", "Generate tokens from a prompt", [](CLI::App& sub) {
  auto o = std::make_shared<GenerateOptions>();
  sub.add_option("--model", o->model, "checkpoint directory")->required();
  sub.add_option("--tokens", o->tokens, "prompt as comma-separated token ids")->required();
  sub.add_option("--max-tokens", o->max_tokens, "tokens to generate (default 16)");
  sub.add_option("--temperature", o->sampling.temperature, "0 = greedy (default)")->check(CLI::Range(0.0, 100.0));
  sub.add_option("--top-k", o->sampling.top_k, "keep the k most likely tokens (0 = off)")->check(CLI::NonNegativeNumber);
  sub.add_option("--top-p", o->sampling.top_p, "nucleus sampling mass (1 = off)")->check(CLI::Range(0.0, 1.0));
  sub.add_option("--min-p", o->sampling.min_p, "drop tokens below min_p * p(max) (0 = off)")->check(CLI::Range(0.0, 1.0));
  sub.add_option("--seed", o->seed, "random seed for sampling")->each([o](const std::string&) { o->has_seed = true; });
  add_model_options(sub, o->model_options);
  sub.callback([o] { run(*o); });
}});

}  // namespace
}  // namespace tessera::cli

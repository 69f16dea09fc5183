// tessera generate --model DIR (--tokens 1,2,3 | --prompt "text" | --messages FILE.json)
//                  [--max-tokens N] [--temperature T --top-k K --top-p P --min-p M --seed S]
//                  [--stop STR]... [--enable-thinking true|false] [--ignore-eos] [--threads N] [--quantize q8|q6|q4]
//   → {"tokens":[...generated ids...],"finish_reason":"stop"|"length", "text":..., "reasoning":...}
// With --prompt or --messages the output has "text" (the answer) and, for models that think,
// "reasoning" (what came before </think>). Generation stops on any EOS id (config.json,
// generation_config.json, the tokenizer's eos token, the family's <|im_end|>/<|endoftext|>) and on
// --stop strings, matched across token boundaries; neither appears in the text. The request runs
// through the server's Scheduler (engine/scheduler.h), so the CLI and the API generate alike.
#include "cli/command.h"
#include "cli/prompt_input.h"
#include "cli/runtime.h"
#include "engine/reasoning_split.h"
#include "engine/scheduler.h"
#include "engine/stop_ids.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <memory>
#include <optional>

namespace tessera::cli {
namespace {

struct GenerateOptions {
  std::string model;
  std::string tokens, prompt, messages;
  std::vector<std::string> stop;
  std::string enable_thinking;
  std::string chat_template;
  int64_t max_tokens = 16;
  SamplingParams sampling;
  uint64_t seed = 0;
  bool has_seed = false;
  bool ignore_eos = false;
  ModelOptions model_options;
};

void run(GenerateOptions o) {
  const int inputs = !o.tokens.empty() + !o.prompt.empty() + !o.messages.empty();
  if (inputs != 1) fail("give exactly one of --tokens, --prompt, --messages");
  if (o.max_tokens < 0) fail("--max-tokens must be >= 0");
  SequenceRequest req;
  req.max_tokens = o.max_tokens;
  if (o.has_seed) o.sampling.seed = o.seed;
  req.sampling = o.sampling;
  req.stop_strings = o.stop;
  req.ignore_eos = o.ignore_eos;
  req.use_prefix_cache = false;

  // Text in: only the rank that owns I/O reads the tokenizer, template and messages file (on
  // another machine they may not exist); the workers only ever see token ids.
  std::optional<Tokenizer> tokenizer;
  std::string prompt_text;
  if (!o.tokens.empty()) {
    req.prompt = parse_id_list(o.tokens, "--tokens");
    if (req.prompt.empty()) fail("--tokens: give at least one token id");
  }
  const bool needs_text = o.tokens.empty() || !o.stop.empty();
  if (launcher_rank() == 0 && needs_text) {
    tokenizer = Tokenizer::load(o.model);
    if (!o.messages.empty()) {
      nlohmann::ordered_json context = read_template_context(o.model, o.messages);
      apply_template_overrides(context, false, o.enable_thinking);
      prompt_text = load_chat_template(o.model, o.chat_template).render(context);
    } else if (!o.prompt.empty()) {
      prompt_text = o.prompt;
    }
    if (o.tokens.empty()) {
      req.prompt = tokenizer->encode(prompt_text);
      if (req.prompt.empty()) fail("the prompt encodes to no tokens");
    }
  }

  run_model_command(o.model_options, o.model, [&](LockstepEngine& engine, Runtime&) {
    // The server's scheduler runs this one request: the same prefill chunks, sampling, stop ids,
    // detokenizing and stop strings as a chat completion.
    const ModelConfig& config = engine.model().config();
    SchedulerOptions options;
    options.max_active = 1;
    if (tokenizer) {
      options.stop_ids = serving_stop_ids(config, *tokenizer);
      options.allowed_vocab = std::min<int64_t>(tokenizer->vocab_size(), config.vocab_size);
    } else {
      for (int64_t id : config.eos_token_ids) options.stop_ids.insert(static_cast<int32_t>(id));
    }
    Scheduler scheduler(engine, tokenizer ? &*tokenizer : nullptr, options);
    std::shared_ptr<SequenceChannel> channel = scheduler.submit(std::move(req));
    scheduler.drain();

    std::vector<SequenceEvent> events;
    channel->take(events, std::chrono::milliseconds(0));
    ReasoningSplitter splitter(prompt_opens_reasoning(prompt_text) ? ReasoningSplitter::Start::kInReasoning
                                                                   : ReasoningSplitter::Start::kDetect);
    std::vector<int32_t> tokens;
    std::string text, reasoning;
    auto take = [&](const ReasoningSplitter::Delta& d) {
      reasoning += d.reasoning;
      text += d.content;
    };
    const SequenceEvent* last = nullptr;
    for (const SequenceEvent& e : events) {
      tokens.insert(tokens.end(), e.tokens.begin(), e.tokens.end());
      take(splitter.push(e.text));
      if (e.finish != FinishReason::kNone) last = &e;
    }
    take(splitter.flush());
    if (!last) fail("generation ended without a result");
    if (last->finish != FinishReason::kStop && last->finish != FinishReason::kLength)
      fail("generation failed: {}", last->error.empty() ? "aborted" : last->error);
    const SequenceStats& stats = last->stats;
    nlohmann::json out = {{"tokens", tokens},
                          {"finish_reason", last->finish == FinishReason::kStop ? "stop" : "length"},
                          {"prompt_tokens", stats.prompt_tokens},
                          {"prompt_seconds", stats.prompt_seconds},
                          {"generate_seconds", stats.decode_seconds},
                          {"tokens_per_second", stats.decode_seconds > 0
                                                    ? static_cast<double>(tokens.size()) / stats.decode_seconds
                                                    : 0.0}};
    if (tokenizer) {
      out["text"] = text;
      if (!reasoning.empty()) out["reasoning"] = reasoning;
    }
    print_json(out);
  });
}

const bool registered = register_command({"generate", "Generate from token ids, text or chat messages", [](CLI::App& sub) {
  auto o = std::make_shared<GenerateOptions>();
  sub.add_option("--model", o->model, "checkpoint directory")->required();
  sub.add_option("--tokens", o->tokens, "prompt as comma-separated token ids");
  sub.add_option("--prompt", o->prompt, "prompt text (no chat template)");
  sub.add_option("--messages", o->messages, "JSON file of chat messages (rendered with the chat template)");
  sub.add_option("--stop", o->stop, "stop string (repeatable); not included in the text");
  sub.add_option("--enable-thinking", o->enable_thinking, "template variable enable_thinking: true|false");
  sub.add_option("--chat-template", o->chat_template, "use this template file instead of the model's");
  sub.add_option("--max-tokens", o->max_tokens, "tokens to generate (default 16)");
  sub.add_option("--temperature", o->sampling.temperature, "0 = greedy (default)")->check(CLI::Range(0.0, 100.0));
  sub.add_option("--top-k", o->sampling.top_k, "keep the k most likely tokens (0 = off)")->check(CLI::NonNegativeNumber);
  sub.add_option("--top-p", o->sampling.top_p, "nucleus sampling mass (1 = off)")->check(CLI::Range(0.0, 1.0));
  sub.add_option("--min-p", o->sampling.min_p, "drop tokens below min_p * p(max) (0 = off)")->check(CLI::Range(0.0, 1.0));
  sub.add_option("--seed", o->seed, "random seed for sampling")->each([o](const std::string&) { o->has_seed = true; });
  sub.add_flag("--ignore-eos", o->ignore_eos, "keep generating through EOS ids (benchmarks, golden continuations)");
  add_model_options(sub, o->model_options);
  sub.callback([o] { run(*o); });
}});

}  // namespace
}  // namespace tessera::cli

#include "server/generation.h"

#include "chat/tool_call_format.h"
#include "server/api_error.h"
#include "util/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace tessera::server {
namespace {

std::vector<int32_t> encode(const ServingContext& ctx, const std::string& text) {
  try {
    return ctx.tokenizer.encode(text, /*parse_special=*/true);
  } catch (const Error& e) {
    bad_request(fmt::format("cannot tokenize the prompt: {}", e.what()));
  }
}

}  // namespace

PreparedPrompt prepare_chat_prompt(const ServingContext& ctx, const ChatCompletionParams& params) {
  nlohmann::ordered_json context = ctx.template_defaults;
  context["messages"] = params.messages;
  context["add_generation_prompt"] = true;
  // tool_choice "none" leaves the tools out: a model that is not shown them cannot call them.
  if (params.tools.active()) {
    if (detect_tool_call_format(ctx.chat_template.source()) == ToolCallFormat::kNone)
      bad_request("this model's chat template has no tool-call format (it never writes <tool_call>), so 'tools' "
                  "cannot be used", "tools");
    context["tools"] = params.tools.tools;
  }
  for (const auto& [key, value] : params.template_kwargs.items()) context[key] = value;
  PreparedPrompt prompt;
  try {
    prompt.text = ctx.chat_template.render(context);
  } catch (const Error& e) {
    bad_request(fmt::format("the chat template rejected the messages: {}", e.what()), "messages");
  }
  prompt.tokens = encode(ctx, prompt.text);
  prompt.reasoning = prompt_opens_reasoning(prompt.text) ? ReasoningSplitter::Start::kInReasoning
                                                         : ReasoningSplitter::Start::kDetect;
  return prompt;
}

PreparedPrompt prepare_completion_prompt(const ServingContext& ctx, const CompletionParams& params) {
  PreparedPrompt prompt;
  if (params.prompt_text) {
    prompt.text = *params.prompt_text;
    prompt.tokens = encode(ctx, prompt.text);
  } else {
    for (int32_t id : params.prompt_tokens)
      if (!ctx.tokenizer.is_known(id))
        bad_request(fmt::format("prompt token id {} is not in the vocabulary (size {})", id, ctx.tokenizer.vocab_size()), "prompt");
    prompt.tokens = params.prompt_tokens;
  }
  return prompt;
}

SequenceRequest make_sequence_request(const ServingContext& ctx, const GenerationParams& gen, std::vector<int32_t> prompt,
                                      ReasoningSplitter::Start reasoning) {
  const int64_t n = static_cast<int64_t>(prompt.size());
  if (n == 0) bad_request("the prompt is empty after tokenization", "prompt");
  if (n >= ctx.context_size)
    throw ApiError(400,
                   fmt::format("This model's maximum context length is {} tokens. However, your prompt has {} tokens, "
                               "which leaves no room for the completion.", ctx.context_size, n),
                   "messages", "context_length_exceeded");
  if (gen.max_tokens && *gen.max_tokens > ctx.context_size - n)
    throw ApiError(400,
                   fmt::format("This model's maximum context length is {} tokens. However, you requested {} tokens ({} in "
                               "the prompt, {} for the completion). Please reduce the length of the prompt or max_tokens.",
                               ctx.context_size, n + *gen.max_tokens, n, *gen.max_tokens),
                   "max_tokens", "context_length_exceeded");
  SequenceRequest request;
  request.prompt = std::move(prompt);
  for (const auto& [id, bias] : gen.sampling.logit_bias)
    if (id >= ctx.tokenizer.vocab_size())
      bad_request(fmt::format("'logit_bias' names token id {}, outside the vocabulary (size {})", id, ctx.tokenizer.vocab_size()),
                  "logit_bias");
  const int64_t default_max = ctx.default_max_tokens > 0 ? ctx.default_max_tokens : std::numeric_limits<int64_t>::max();
  request.max_tokens = std::min(gen.max_tokens.value_or(default_max), ctx.context_size - n);
  request.sampling = gen.sampling;
  request.stop_strings = gen.stop;
  request.ignore_eos = gen.ignore_eos;
  request.top_logprobs = gen.top_logprobs;
  request.use_prefix_cache = gen.use_prefix_cache;
  request.constraint = make_response_constraint(ctx.tokenizer, gen.response_format, reasoning);
  return request;
}

Outcome pump(SequenceChannel& channel, std::optional<ReasoningSplitter::Start> reasoning,
             const std::function<bool(TextDelta&&)>& on_delta, const std::function<bool()>& on_idle,
             std::chrono::milliseconds idle_interval) {
  std::optional<ReasoningSplitter> splitter;
  if (reasoning) splitter.emplace(*reasoning);
  bool gone = false;
  auto deliver = [&](TextDelta&& delta) {
    if (gone || delta.empty()) return;
    if (!on_delta(std::move(delta))) {
      gone = true;
      channel.cancel();
    }
  };
  std::vector<SequenceEvent> events;
  for (;;) {
    events.clear();
    if (!channel.take(events, idle_interval)) {
      if (!gone && on_idle && !on_idle()) {
        gone = true;
        channel.cancel();
      }
      continue;
    }
    // Coalesce whatever arrived: a slow client gets fewer, larger chunks.
    TextDelta delta;
    for (SequenceEvent& event : events) {
      if (splitter) {
        ReasoningSplitter::Delta d = splitter->push(event.text);
        delta.reasoning += d.reasoning;
        delta.content += d.content;
      } else {
        delta.content += event.text;
      }
      for (TokenLogprob& lp : event.logprobs) delta.logprobs.push_back(std::move(lp));
      if (event.finish != FinishReason::kNone) {
        if (splitter) {
          ReasoningSplitter::Delta d = splitter->flush();
          delta.reasoning += d.reasoning;
          delta.content += d.content;
        }
        deliver(std::move(delta));
        return {event.finish, event.error, event.stats};
      }
    }
    deliver(std::move(delta));
  }
}

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength: return "length";
    case FinishReason::kError:
    case FinishReason::kAborted: return "error";
    default: return "stop";
  }
}

}  // namespace tessera::server

// From validated parameters to tokens and back: renders and tokenizes the prompt, builds the
// scheduler request within the context size, and pumps a sequence's events into text deltas
// (split into reasoning and content for chat). Streaming and non-streaming responses both
// consume pump(), so they cannot disagree about the text.
#pragma once

#include "engine/reasoning_split.h"
#include "engine/scheduler.h"
#include "server/openai_schema.h"
#include "server/serving_context.h"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tessera::server {

struct PreparedPrompt {
  std::string text;                // rendered prompt (chat) or the prompt as given
  std::vector<int32_t> tokens;
  ReasoningSplitter::Start reasoning = ReasoningSplitter::Start::kDetect;
};

// Renders the chat template (errors in it, e.g. raise_exception, are a 400) and tokenizes with
// special tokens parsed, as HF's apply_chat_template(tokenize=True) does.
PreparedPrompt prepare_chat_prompt(const ServingContext& ctx, const ChatCompletionParams& params);
PreparedPrompt prepare_completion_prompt(const ServingContext& ctx, const CompletionParams& params);

// 400 when the prompt leaves no room in the context, or when an explicit max_tokens would take
// the sequence past it (as vLLM does: the numbers are in the message); an absent max_tokens is
// the server's default_max_tokens, clamped to what the prompt leaves (finish_reason "length"
// when the context fills). A response_format becomes the request's decoding constraint (400 for an
// unsupported schema); `reasoning` says whether the prompt has opened a <think> block, which the
// constrained output then closes first.
SequenceRequest make_sequence_request(const ServingContext& ctx, const GenerationParams& gen,
                                      std::vector<int32_t> prompt,
                                      ReasoningSplitter::Start reasoning = ReasoningSplitter::Start::kDetect);

struct TextDelta {
  std::string reasoning;
  std::string content;
  std::vector<TokenLogprob> logprobs;
  bool empty() const { return reasoning.empty() && content.empty() && logprobs.empty(); }
};

struct Outcome {
  FinishReason finish = FinishReason::kNone;
  std::string error;
  SequenceStats stats;
};

// Reads `channel` until its final event. `on_delta` gets each non-empty delta and returns false
// when the client is gone; `on_idle` runs after each `idle_interval` without events (false:
// gone too).
// Either cancels the sequence; pump still waits for the scheduler's final event (one round at
// most) so the slot is known to be free and the stats are complete.
Outcome pump(SequenceChannel& channel, std::optional<ReasoningSplitter::Start> reasoning,
             const std::function<bool(TextDelta&&)>& on_delta, const std::function<bool()>& on_idle = nullptr,
             std::chrono::milliseconds idle_interval = std::chrono::seconds(1));

const char* finish_reason_name(FinishReason reason);

}  // namespace tessera::server

// Response bodies in OpenAI's shapes: chat.completion, chat.completion.chunk, text_completion,
// usage and both logprobs formats (chat's per-token objects, completions' legacy arrays).
// Key order follows OpenAI's documentation, hence ordered_json.
#pragma once

#include "chat/tool_call_parser.h"
#include "engine/sequence_channel.h"
#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::server {

using OrderedJson = nlohmann::ordered_json;

struct ResponseHeader {
  std::string id;       // "chatcmpl-…" / "cmpl-…"
  int64_t created = 0;  // unix seconds
  std::string model;
};

ResponseHeader new_response_header(const std::string& id_prefix, const std::string& model);

OrderedJson usage_json(const SequenceStats& stats);

// {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}], "refusal": null}
OrderedJson chat_logprobs_json(const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer);
// {"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"}; `offset` is
// the running character offset of the next token's text and is advanced.
OrderedJson completion_logprobs_json(const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer,
                                     int64_t& offset);

// One choice of a chat.completion. The message is {"role": "assistant", "content",
// "reasoning_content" and "reasoning" (the same text under vLLM's older and current names; only
// when non-empty), "tool_calls" (only when there are some: then an empty content is null)}.
struct ChatChoice {
  std::string content;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
  std::string finish_reason;
  OrderedJson logprobs;  // null when not asked for
};
OrderedJson chat_completion_json(const ResponseHeader& h, const std::vector<ChatChoice>& choices, const SequenceStats& stats);
// The single-choice form, without tool calls.
OrderedJson chat_completion_json(const ResponseHeader& h, const std::string& content, const std::string& reasoning,
                                 const char* finish_reason, const OrderedJson& logprobs, const SequenceStats& stats);
OrderedJson chat_chunk_json(const ResponseHeader& h, OrderedJson delta, const OrderedJson& finish_reason,
                            const OrderedJson& logprobs, int index = 0);
// A streamed delta: {"reasoning_content", "reasoning", "content", "tool_calls": [{"index", "id",
// "type": "function", "function": {"name", "arguments"}}]}, each only when non-empty. A call is
// sent whole, in one piece (see tool_call_parser.h); its index counts the choice's calls from 0.
OrderedJson chat_delta_json(const std::string& reasoning, const std::string& content,
                            const std::vector<ToolCallDelta>& tool_calls);

// "call_" + 24 random hex digits, as OpenAI's ids look.
std::string new_tool_call_id();
OrderedJson completion_json(const ResponseHeader& h, const std::string& text, const char* finish_reason,
                            const OrderedJson& logprobs, const SequenceStats& stats);
OrderedJson completion_chunk_json(const ResponseHeader& h, const std::string& text, const OrderedJson& finish_reason,
                                  const OrderedJson& logprobs);

}  // namespace tessera::server

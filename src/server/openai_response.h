// Response bodies in OpenAI's shapes: chat.completion, chat.completion.chunk, text_completion,
// usage and both logprobs formats (chat's per-token objects, completions' legacy arrays).
// Key order follows OpenAI's documentation, hence ordered_json.
#pragma once

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

// message: {"role": "assistant", "content", "reasoning_content" (only when non-empty)}
OrderedJson chat_completion_json(const ResponseHeader& h, const std::string& content, const std::string& reasoning,
                                 const char* finish_reason, const OrderedJson& logprobs, const SequenceStats& stats);
OrderedJson chat_chunk_json(const ResponseHeader& h, OrderedJson delta, const OrderedJson& finish_reason,
                            const OrderedJson& logprobs);
OrderedJson completion_json(const ResponseHeader& h, const std::string& text, const char* finish_reason,
                            const OrderedJson& logprobs, const SequenceStats& stats);
OrderedJson completion_chunk_json(const ResponseHeader& h, const std::string& text, const OrderedJson& finish_reason,
                                  const OrderedJson& logprobs);

}  // namespace tessera::server

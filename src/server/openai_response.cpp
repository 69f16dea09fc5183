#include "server/openai_response.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <random>

namespace tessera::server {
namespace {

std::string token_text(const Tokenizer& tokenizer, int32_t id) {
  const int32_t ids[1] = {id};
  try {
    return tokenizer.decode(ids, /*skip_special=*/false);
  } catch (const std::exception&) {
    return {};
  }
}

OrderedJson token_bytes(const Tokenizer& tokenizer, int32_t id) {
  OrderedJson bytes = OrderedJson::array();
  try {
    for (unsigned char c : tokenizer.token_bytes(id)) bytes.push_back(static_cast<int>(c));
  } catch (const std::exception&) {
  }
  return bytes;
}

// JSON has no -Infinity; OpenAI reports impossible tokens as -9999.0.
double finite(float logprob) { return std::isfinite(logprob) ? static_cast<double>(logprob) : -9999.0; }

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

ResponseHeader new_response_header(const std::string& id_prefix, const std::string& model) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  ResponseHeader h;
  h.id = fmt::format("{}{:016x}{:08x}", id_prefix, rng(), static_cast<uint32_t>(rng()));
  h.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  h.model = model;
  return h;
}

OrderedJson usage_json(const SequenceStats& stats) {
  return {{"prompt_tokens", stats.prompt_tokens},
          {"completion_tokens", stats.completion_tokens},
          {"total_tokens", stats.prompt_tokens + stats.completion_tokens}};
}

OrderedJson chat_logprobs_json(const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer) {
  OrderedJson content = OrderedJson::array();
  for (const TokenLogprob& lp : logprobs) {
    OrderedJson top = OrderedJson::array();
    for (const auto& [id, value] : lp.top)
      top.push_back({{"token", token_text(tokenizer, id)}, {"logprob", finite(value)}, {"bytes", token_bytes(tokenizer, id)}});
    content.push_back({{"token", token_text(tokenizer, lp.id)},
                       {"logprob", finite(lp.logprob)},
                       {"bytes", token_bytes(tokenizer, lp.id)},
                       {"top_logprobs", std::move(top)}});
  }
  return {{"content", std::move(content)}, {"refusal", nullptr}};
}

OrderedJson completion_logprobs_json(const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer, int64_t& offset) {
  OrderedJson tokens = OrderedJson::array(), values = OrderedJson::array(), tops = OrderedJson::array(),
              offsets = OrderedJson::array();
  for (const TokenLogprob& lp : logprobs) {
    const std::string text = token_text(tokenizer, lp.id);
    tokens.push_back(text);
    values.push_back(finite(lp.logprob));
    OrderedJson top = OrderedJson::object();
    for (const auto& [id, value] : lp.top) top[token_text(tokenizer, id)] = finite(value);
    tops.push_back(std::move(top));
    offsets.push_back(offset);
    offset += static_cast<int64_t>(utf8_length(text));
  }
  return {{"tokens", std::move(tokens)}, {"token_logprobs", std::move(values)}, {"top_logprobs", std::move(tops)},
          {"text_offset", std::move(offsets)}};
}

std::string new_tool_call_id() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return fmt::format("call_{:016x}{:08x}", rng(), static_cast<uint32_t>(rng()));
}

OrderedJson chat_completion_json(const ResponseHeader& h, const std::vector<ChatChoice>& choices, const SequenceStats& stats) {
  OrderedJson out_choices = OrderedJson::array();
  for (const ChatChoice& c : choices) {
    OrderedJson message = {{"role", "assistant"}, {"content", c.content}};
    if (c.content.empty() && !c.tool_calls.empty()) message["content"] = nullptr;
    if (!c.reasoning.empty()) {
      message["reasoning_content"] = c.reasoning;
      message["reasoning"] = c.reasoning;
    }
    if (!c.tool_calls.empty()) {
      OrderedJson calls = OrderedJson::array();
      for (const ToolCall& call : c.tool_calls)
        calls.push_back({{"id", new_tool_call_id()},
                         {"type", "function"},
                         {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
      message["tool_calls"] = std::move(calls);
    }
    out_choices.push_back({{"index", out_choices.size()},
                           {"message", std::move(message)},
                           {"logprobs", c.logprobs},
                           {"finish_reason", c.finish_reason}});
  }
  return {{"id", h.id},
          {"object", "chat.completion"},
          {"created", h.created},
          {"model", h.model},
          {"choices", std::move(out_choices)},
          {"usage", usage_json(stats)}};
}

OrderedJson chat_completion_json(const ResponseHeader& h, const std::string& content, const std::string& reasoning,
                                 const char* finish_reason, const OrderedJson& logprobs, const SequenceStats& stats) {
  return chat_completion_json(h, {ChatChoice{content, reasoning, {}, finish_reason, logprobs}}, stats);
}

OrderedJson chat_delta_json(const std::string& reasoning, const std::string& content,
                            const std::vector<ToolCallDelta>& tool_calls) {
  OrderedJson delta = OrderedJson::object();
  if (!reasoning.empty()) {
    delta["reasoning_content"] = reasoning;
    delta["reasoning"] = reasoning;
  }
  if (!content.empty()) delta["content"] = content;
  if (!tool_calls.empty()) {
    OrderedJson calls = OrderedJson::array();
    for (const ToolCallDelta& d : tool_calls)
      calls.push_back({{"index", d.index},
                       {"id", new_tool_call_id()},
                       {"type", "function"},
                       {"function", {{"name", d.call.name}, {"arguments", d.call.arguments}}}});
    delta["tool_calls"] = std::move(calls);
  }
  return delta;
}

OrderedJson chat_chunk_json(const ResponseHeader& h, OrderedJson delta, const OrderedJson& finish_reason,
                            const OrderedJson& logprobs, int index) {
  OrderedJson choice = {{"index", index}, {"delta", std::move(delta)}, {"logprobs", logprobs}, {"finish_reason", finish_reason}};
  return {{"id", h.id},
          {"object", "chat.completion.chunk"},
          {"created", h.created},
          {"model", h.model},
          {"choices", OrderedJson::array({std::move(choice)})}};
}

OrderedJson completion_json(const ResponseHeader& h, const std::string& text, const char* finish_reason,
                            const OrderedJson& logprobs, const SequenceStats& stats) {
  OrderedJson choice = {{"index", 0}, {"text", text}, {"logprobs", logprobs}, {"finish_reason", finish_reason}};
  return {{"id", h.id},
          {"object", "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"choices", OrderedJson::array({std::move(choice)})},
          {"usage", usage_json(stats)}};
}

OrderedJson completion_chunk_json(const ResponseHeader& h, const std::string& text, const OrderedJson& finish_reason,
                                  const OrderedJson& logprobs) {
  OrderedJson choice = {{"index", 0}, {"text", text}, {"logprobs", logprobs}, {"finish_reason", finish_reason}};
  return {{"id", h.id},
          {"object", "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"choices", OrderedJson::array({std::move(choice)})}};
}

}  // namespace tessera::server

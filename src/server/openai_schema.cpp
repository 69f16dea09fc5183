#include "server/openai_schema.h"

#include "server/api_error.h"
#include "util/log.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>

namespace tessera::server {
namespace {

using Json = nlohmann::ordered_json;

const char* type_name(const Json& v) { return v.type_name(); }

double number_in(const Json& v, const std::string& name, double lo, double hi, bool lo_open = false) {
  if (!v.is_number()) bad_request(fmt::format("'{}' must be a number, got {}", name, type_name(v)), name);
  const double x = v.get<double>();
  const bool below = lo_open ? !(x > lo) : !(x >= lo);
  if (below || !(x <= hi) || !std::isfinite(x))
    bad_request(fmt::format("'{}' must be in {}{}, {}], got {}", name, lo_open ? "(" : "[", lo, hi, x), name);
  return x;
}

int64_t integer_in(const Json& v, const std::string& name, int64_t lo, int64_t hi) {
  // 16.0 is accepted as 16 (JavaScript clients cannot tell them apart); 16.5 is not.
  int64_t x = 0;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      bad_request(fmt::format("'{}' is too large", name), name);
    x = v.get<int64_t>();
  } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() && std::fabs(v.get<double>()) < 9e15) {
    x = static_cast<int64_t>(v.get<double>());
  } else {
    bad_request(fmt::format("'{}' must be an integer, got {}", name, v.is_number() ? v.dump() : type_name(v)), name);
  }
  if (x < lo || x > hi) bad_request(fmt::format("'{}' must be in [{}, {}], got {}", name, lo, hi, x), name);
  return x;
}

bool boolean(const Json& v, const std::string& name) {
  if (!v.is_boolean()) bad_request(fmt::format("'{}' must be a boolean, got {}", name, type_name(v)), name);
  return v.get<bool>();
}

std::vector<std::string> stop_list(const Json& v) {
  std::vector<std::string> stops;
  if (v.is_string()) {
    stops.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    if (v.size() > 16) bad_request(fmt::format("'stop' accepts at most 16 strings, got {}", v.size()), "stop");
    for (const Json& s : v) {
      if (!s.is_string()) bad_request("'stop' must be a string or a list of strings", "stop");
      stops.push_back(s.get<std::string>());
    }
  } else {
    bad_request(fmt::format("'stop' must be a string or a list of strings, got {}", type_name(v)), "stop");
  }
  return stops;
}

// {"token id": bias}: ids as decimal strings (OpenAI's shape), biases in [-100, 100].
std::vector<std::pair<int32_t, float>> logit_bias(const Json& v) {
  if (!v.is_object()) bad_request(fmt::format("'logit_bias' must be an object of token id -> bias, got {}", type_name(v)), "logit_bias");
  std::vector<std::pair<int32_t, float>> out;
  for (const auto& [key, bias] : v.items()) {
    int64_t id = -1;
    const bool digits = !key.empty() && key.size() <= 10 && key.find_first_not_of("0123456789") == std::string::npos;
    if (digits) id = std::stoll(key);
    if (id < 0 || id > std::numeric_limits<int32_t>::max())
      bad_request(fmt::format("'logit_bias' keys must be token ids, got '{}'", key), "logit_bias");
    out.emplace_back(static_cast<int32_t>(id), static_cast<float>(number_in(bias, "logit_bias", -100, 100)));
  }
  return out;
}

using Setter = std::function<void(const Json& value)>;

// The parameters both endpoints share; `extra` adds the endpoint's own. Unknown keys are a 400,
// so a typo ("temprature") never silently falls back to a default.
void apply_params(const Json& body, GenerationParams& gen, const std::map<std::string, Setter>& extra) {
  std::optional<Json> stream_options;
  const std::map<std::string, Setter> common = {
      {"model", [](const Json& v) { if (!v.is_string()) bad_request("'model' must be a string", "model"); }},
      {"user", [](const Json& v) { if (!v.is_string()) bad_request("'user' must be a string", "user"); }},
      {"max_tokens", [&](const Json& v) { gen.max_tokens = integer_in(v, "max_tokens", 1, std::numeric_limits<int32_t>::max()); }},
      {"temperature", [&](const Json& v) { gen.sampling.temperature = static_cast<float>(number_in(v, "temperature", 0, 2)); }},
      {"top_p", [&](const Json& v) { gen.sampling.top_p = static_cast<float>(number_in(v, "top_p", 0, 1, /*lo_open=*/true)); }},
      {"top_k", [&](const Json& v) { gen.sampling.top_k = std::max<int64_t>(0, integer_in(v, "top_k", -1, std::numeric_limits<int32_t>::max())); }},
      {"min_p", [&](const Json& v) { gen.sampling.min_p = static_cast<float>(number_in(v, "min_p", 0, 1)); }},
      {"seed", [&](const Json& v) { gen.sampling.seed = static_cast<uint64_t>(integer_in(v, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())); }},
      {"stop", [&](const Json& v) { gen.stop = stop_list(v); }},
      {"presence_penalty", [&](const Json& v) { gen.sampling.presence_penalty = static_cast<float>(number_in(v, "presence_penalty", -2, 2)); }},
      {"frequency_penalty", [&](const Json& v) { gen.sampling.frequency_penalty = static_cast<float>(number_in(v, "frequency_penalty", -2, 2)); }},
      {"repetition_penalty", [&](const Json& v) { gen.sampling.repetition_penalty = static_cast<float>(number_in(v, "repetition_penalty", 0, 10, /*lo_open=*/true)); }},
      {"stream", [&](const Json& v) { gen.stream = boolean(v, "stream"); }},
      {"stream_options", [&](const Json& v) { stream_options = v; }},
      {"n", [&](const Json& v) { gen.n = static_cast<int>(integer_in(v, "n", 1, 128)); }},
      {"ignore_eos", [&](const Json& v) { gen.ignore_eos = boolean(v, "ignore_eos"); }},
      {"logit_bias", [&](const Json& v) { gen.sampling.logit_bias = logit_bias(v); }},
      {"use_prefix_cache", [&](const Json& v) { gen.use_prefix_cache = boolean(v, "use_prefix_cache"); }},
      {"response_format", [&](const Json& v) { gen.response_format = parse_response_format(v); }},
  };
  for (const auto& [key, value] : body.items()) {
    if (value.is_null()) continue;
    if (auto it = extra.find(key); it != extra.end()) {
      it->second(value);
    } else if (auto jt = common.find(key); jt != common.end()) {
      jt->second(value);
    } else {
      gen.ignored.push_back(key);
    }
  }
  if (!gen.ignored.empty()) log_warn("ignoring unsupported request parameter(s): {}", fmt::join(gen.ignored, ", "));
  if (stream_options) {
    if (!gen.stream) bad_request("'stream_options' is only allowed when 'stream' is true", "stream_options");
    if (!stream_options->is_object()) bad_request("'stream_options' must be an object", "stream_options");
    for (const auto& [key, value] : stream_options->items()) {
      if (key != "include_usage") bad_request(fmt::format("Unrecognized stream option: {}", key), "stream_options");
      if (!value.is_null()) gen.include_usage = boolean(value, "stream_options.include_usage");
    }
  }
}

std::string message_text(const Json& content, size_t index, bool null_ok) {
  const std::string where = fmt::format("messages[{}].content", index);
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null() && null_ok) return {};
  if (!content.is_array()) bad_request(fmt::format("'{}' must be a string or a list of content parts", where), where);
  std::string text;
  for (const Json& part : content) {
    if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") ||
        !part["text"].is_string())
      bad_request(fmt::format("'{}': only {{\"type\": \"text\", \"text\": ...}} parts are supported", where), where);
    if (!text.empty()) text += "\n";
    text += part["text"].get<std::string>();
  }
  return text;
}

Json normalise_messages(const Json& messages) {
  if (!messages.is_array()) bad_request("'messages' must be a list of messages", "messages");
  if (messages.empty()) bad_request("'messages' must contain at least one message", "messages");
  Json out = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string where = fmt::format("messages[{}]", i);
    if (!m.is_object()) bad_request(fmt::format("'{}' must be an object", where), where);
    if (!m.contains("role") || !m["role"].is_string()) bad_request(fmt::format("'{}.role' must be a string", where), where + ".role");
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      bad_request(fmt::format("'{}.role' must be system, developer, user, assistant or tool, got '{}'", where, role), where + ".role");
    Json msg = Json::object();
    msg["role"] = role;
    const Json content = m.contains("content") ? m["content"] : Json();
    if (content.is_null() && role != "assistant") bad_request(fmt::format("'{}.content' is required", where), where + ".content");
    msg["content"] = message_text(content, i, role == "assistant");
    // Fields the chat templates read; anything else a client round-trips (refusal, audio, ...)
    // is dropped rather than refused.
    for (const char* key : {"name", "reasoning_content", "tool_call_id"})
      if (m.contains(key) && !m[key].is_null()) msg[key] = m[key];
    if (m.contains("tool_calls") && !m["tool_calls"].is_null() && role == "assistant")
      msg["tool_calls"] = normalise_tool_calls(m["tool_calls"], i);
    if (msg.contains("reasoning_content") && !msg["reasoning_content"].is_string())
      bad_request(fmt::format("'{}.reasoning_content' must be a string", where), where + ".reasoning_content");
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace

Json parse_json_object(const std::string& body) {
  Json value;
  try {
    value = Json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    bad_request(fmt::format("the request body is not valid JSON: {}", e.what()), {}, "invalid_json");
  }
  if (!value.is_object()) bad_request(fmt::format("the request body must be a JSON object, got {}", value.type_name()));
  return value;
}

ChatCompletionParams parse_chat_completion(const Json& body) {
  ChatCompletionParams p;
  bool logprobs = false;
  std::optional<int> top_logprobs;
  const std::map<std::string, Setter> chat = {
      {"messages", [&](const Json& v) { p.messages = normalise_messages(v); }},
      {"max_completion_tokens", [&](const Json& v) { p.gen.max_tokens = integer_in(v, "max_completion_tokens", 1, std::numeric_limits<int32_t>::max()); }},
      {"logprobs", [&](const Json& v) { logprobs = boolean(v, "logprobs"); }},
      {"top_logprobs", [&](const Json& v) { top_logprobs = static_cast<int>(integer_in(v, "top_logprobs", 0, 20)); }},
      {"chat_template_kwargs", [&](const Json& v) {
         if (!v.is_object()) bad_request("'chat_template_kwargs' must be an object", "chat_template_kwargs");
         p.template_kwargs = v;
       }},
      {"tools", [&](const Json& v) { parse_tools(v, p.tools); }},
      {"tool_choice", [&](const Json& v) { parse_tool_choice(v, p.tools); }},
      {"parallel_tool_calls", [&](const Json& v) { parse_parallel_tool_calls(v, p.tools); }},
  };
  apply_params(body, p.gen, chat);
  if (p.messages.is_null()) bad_request("'messages' is required", "messages");
  check_tool_choice(p.tools);
  if (p.tools.forced() && p.gen.response_format.kind != ResponseFormat::Kind::kText)
    bad_request(fmt::format("'response_format' cannot be combined with 'tool_choice' {}: the answer is then a tool call",
                            to_string(p.tools.choice)), "response_format");
  if (top_logprobs && !logprobs) bad_request("'top_logprobs' requires 'logprobs' to be true", "top_logprobs");
  if (logprobs) p.gen.top_logprobs = top_logprobs.value_or(0);
  return p;
}

CompletionParams parse_completion(const Json& body) {
  CompletionParams p;
  bool has_prompt = false;
  const std::map<std::string, Setter> completion = {
      {"prompt", [&](const Json& v) {
         has_prompt = true;
         const Json* one = &v;
         // A list holding one prompt is one prompt; several would need n > 1 completions.
         if (v.is_array() && v.size() == 1 && (v[0].is_string() || v[0].is_array())) one = &v[0];
         if (one->is_string()) {
           p.prompt_text = one->get<std::string>();
           if (p.prompt_text->empty()) bad_request("'prompt' must not be empty", "prompt");
         } else if (one->is_array() && !one->empty()) {
           for (const Json& id : *one) {
             if (!id.is_number_integer()) bad_request("'prompt' must be a string, a list of one string, or a list of token ids", "prompt");
             p.prompt_tokens.push_back(static_cast<int32_t>(integer_in(id, "prompt", 0, std::numeric_limits<int32_t>::max())));
           }
         } else {
           bad_request("'prompt' must be a non-empty string, a list of one string, or a list of token ids", "prompt");
         }
       }},
      {"logprobs", [&](const Json& v) { p.gen.top_logprobs = static_cast<int>(integer_in(v, "logprobs", 0, 5)); }},
      {"echo", [](const Json& v) { if (boolean(v, "echo")) bad_request("'echo' is not supported", "echo"); }},
  };
  apply_params(body, p.gen, completion);
  if (!has_prompt) bad_request("'prompt' is required", "prompt");
  return p;
}

}  // namespace tessera::server

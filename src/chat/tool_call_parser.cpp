#include "chat/tool_call_parser.h"

#include "util/text_scan.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace tessera {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_tag_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_tag_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::optional<Json> parse_json(std::string_view text) {
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `raw` read as one of the schema's types; nullopt when it is none of them.
std::optional<Json> as_declared_type(const std::string& raw, const std::vector<std::string>& types) {
  const std::string_view text = trim(raw);
  std::optional<Json> json = parse_json(text);
  for (const std::string& type : types) {
    if (type == "integer" && json && json->is_number_integer()) return json;
    if (type == "number" && json && json->is_number()) return json;
    if (type == "object" && json && json->is_object()) return json;
    if (type == "array" && json && json->is_array()) return json;
    // The chat template writes non-JSON values with Python's str(): True, False, None.
    if (type == "boolean" && (lower(text) == "true" || lower(text) == "false")) return Json(lower(text) == "true");
    if (type == "null" && (text == "null" || text == "None")) return Json(nullptr);
  }
  return std::nullopt;
}

Json xml_value(const std::string& raw, const std::vector<std::string>& types) {
  if (std::find(types.begin(), types.end(), "string") != types.end()) return Json(raw);
  if (std::optional<Json> typed = as_declared_type(raw, types)) return *typed;
  if (std::optional<Json> json = parse_json(raw)) return *json;
  return Json(raw);
}

std::string dump(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

// <function=NAME>\n<parameter=P>\nVALUE\n</parameter>\n...</function>, the text inside <tool_call>.
std::optional<ToolCall> parse_xml_call(std::string_view body, const ToolSet& tools) {
  constexpr std::string_view kFunction = "<function=", kFunctionEnd = "</function>";
  constexpr std::string_view kParam = "<parameter=", kParamEnd = "</parameter>";
  body = trim(body);
  if (!starts_with(body, kFunction) || body.size() < kFunctionEnd.size() ||
      body.substr(body.size() - kFunctionEnd.size()) != kFunctionEnd)
    return std::nullopt;
  body.remove_suffix(kFunctionEnd.size());
  body.remove_prefix(kFunction.size());
  const size_t name_end = body.find('>');
  if (name_end == std::string_view::npos) return std::nullopt;
  ToolCall call;
  call.name = std::string(trim(body.substr(0, name_end)));
  if (!tools.has(call.name)) return std::nullopt;
  body.remove_prefix(name_end + 1);

  Json arguments = Json::object();
  for (;;) {
    body = trim(body);
    if (body.empty()) break;
    if (!starts_with(body, kParam)) return std::nullopt;
    body.remove_prefix(kParam.size());
    const size_t pname_end = body.find('>');
    if (pname_end == std::string_view::npos) return std::nullopt;
    const std::string param(trim(body.substr(0, pname_end)));
    if (param.empty()) return std::nullopt;
    body.remove_prefix(pname_end + 1);
    // A value ends at </parameter>; models that forget it start the next parameter directly.
    size_t value_end = body.find(kParamEnd);
    size_t next = value_end == std::string_view::npos ? body.size() : value_end + kParamEnd.size();
    if (const size_t other = body.find(kParam); other < value_end) value_end = next = other;
    if (value_end == std::string_view::npos) value_end = next = body.size();
    std::string_view value = body.substr(0, value_end);
    // The template puts the value on lines of its own: one newline each side is format, not value.
    if (starts_with(value, "\n")) value.remove_prefix(1);
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
    arguments[param] = xml_value(std::string(value), tools.param_types(call.name, param));
    body.remove_prefix(next);
  }
  call.arguments = dump(arguments);
  return call;
}

// {"name": NAME, "arguments": {...}}, the text inside <tool_call>. `arguments` may also come as a
// JSON string holding the object, or as "parameters" (both seen from Hermes-style models).
std::optional<ToolCall> parse_json_call(std::string_view body, const ToolSet& tools) {
  const std::optional<Json> value = parse_json(trim(body));
  if (!value || !value->is_object() || !value->contains("name") || !(*value)["name"].is_string()) return std::nullopt;
  ToolCall call;
  call.name = (*value)["name"].get<std::string>();
  if (!tools.has(call.name)) return std::nullopt;
  Json arguments = Json::object();
  for (const char* key : {"arguments", "parameters"}) {
    if (!value->contains(key)) continue;
    arguments = (*value)[key];
    if (arguments.is_string()) {
      std::optional<Json> inner = parse_json(arguments.get<std::string>());
      if (!inner) return std::nullopt;
      arguments = std::move(*inner);
    }
    break;
  }
  if (!arguments.is_object()) return std::nullopt;
  call.arguments = dump(arguments);
  return call;
}

// `block`: from "<tool_call>" to "</tool_call>" inclusive.
std::optional<ToolCall> parse_block(std::string_view block, ToolCallFormat format, const ToolSet& tools) {
  const std::string_view body = block.substr(kOpen.size(), block.size() - kOpen.size() - kClose.size());
  switch (format) {
    case ToolCallFormat::kQwenXml: return parse_xml_call(body, tools);
    case ToolCallFormat::kJson: return parse_json_call(body, tools);
    case ToolCallFormat::kNone: break;
  }
  return std::nullopt;
}

}  // namespace

ToolSet::ToolSet(const Json& tools) {
  if (!tools.is_array()) return;
  for (const Json& tool : tools) {
    if (!tool.is_object() || !tool.contains("function") || !tool["function"].is_object()) continue;
    const Json& function = tool["function"];
    if (!function.contains("name") || !function["name"].is_string()) continue;
    auto& params = params_[function["name"].get<std::string>()];
    const Json* properties = nullptr;
    if (function.contains("parameters") && function["parameters"].is_object() &&
        function["parameters"].contains("properties") && function["parameters"]["properties"].is_object())
      properties = &function["parameters"]["properties"];
    if (!properties) continue;
    for (const auto& [name, schema] : properties->items()) {
      std::vector<std::string>& types = params[name];
      if (!schema.is_object() || !schema.contains("type")) continue;
      const Json& type = schema["type"];
      if (type.is_string()) types.push_back(type.get<std::string>());
      if (type.is_array())
        for (const Json& t : type)
          if (t.is_string()) types.push_back(t.get<std::string>());
    }
  }
}

std::vector<std::string> ToolSet::param_types(const std::string& tool, const std::string& param) const {
  const auto it = params_.find(tool);
  if (it == params_.end()) return {};
  const auto jt = it->second.find(param);
  return jt == it->second.end() ? std::vector<std::string>{} : jt->second;
}

ParsedToolOutput parse_tool_calls(std::string_view text, ToolCallFormat format, const ToolSet& tools) {
  // One-shot is streaming with everything in one piece, so the two cannot disagree.
  ToolCallStreamParser parser(format, tools);
  ToolCallStreamParser::Delta a = parser.push(text);
  ToolCallStreamParser::Delta b = parser.flush();
  ParsedToolOutput out;
  out.content = std::move(a.content) + b.content;
  for (auto* part : {&a.tool_calls, &b.tool_calls})
    for (ToolCallDelta& d : *part) out.tool_calls.push_back(std::move(d.call));
  return out;
}

ToolCallStreamParser::ToolCallStreamParser(ToolCallFormat format, ToolSet tools)
    : format_(format), tools_(std::move(tools)) {}

ToolCallStreamParser::Delta ToolCallStreamParser::push(std::string_view text) {
  Delta out;
  buf_.append(text);
  run(out, false);
  return out;
}

ToolCallStreamParser::Delta ToolCallStreamParser::flush() {
  Delta out;
  run(out, true);
  return out;
}

// buf_ holds, outside a block, content not yet released; inside one, optional whitespace that
// came before it (dropped if the block is a call, kept if not) and the block so far.
void ToolCallStreamParser::run(Delta& out, bool at_end) {
  for (;;) {
    if (!in_block_) {
      if (after_call_) {
        size_t ws = 0;
        while (ws < buf_.size() && is_tag_space(buf_[ws])) ++ws;
        buf_.erase(0, ws);
        if (buf_.empty()) return;
        after_call_ = false;
      }
      const size_t open = buf_.find(kOpen);
      if (open != std::string::npos) {
        size_t end = open;
        while (end > 0 && is_tag_space(buf_[end - 1])) --end;
        out.content.append(buf_, 0, end);
        buf_.erase(0, end);
        in_block_ = true;
        continue;
      }
      size_t end = buf_.size();
      if (!at_end) {
        // Hold what may still become "<tool_call>", and the whitespace before it.
        end -= partial_tag_tail(buf_, kOpen);
        while (end > 0 && is_tag_space(buf_[end - 1])) --end;
      }
      out.content.append(buf_, 0, end);
      buf_.erase(0, end);
      return;
    }
    const size_t open = buf_.find(kOpen);  // after the held whitespace
    // A long call arrives a token at a time: only the new text (and a tag cut at its start) is searched.
    const size_t close = buf_.find(kClose, std::max(open, scanned_));
    if (close == std::string::npos) {
      scanned_ = buf_.size() >= kClose.size() ? buf_.size() - kClose.size() + 1 : 0;
      if (!at_end) return;
      out.content += buf_;  // cut off by the end of the output
      buf_.clear();
      in_block_ = false;
      scanned_ = 0;
      return;
    }
    const size_t block_end = close + kClose.size();
    if (std::optional<ToolCall> call = parse_block(std::string_view(buf_).substr(open, block_end - open), format_, tools_)) {
      out.tool_calls.push_back({calls_++, std::move(*call)});
      after_call_ = true;
    } else {
      out.content.append(buf_, 0, block_end);
    }
    buf_.erase(0, block_end);
    in_block_ = false;
    scanned_ = 0;
  }
}

}  // namespace tessera

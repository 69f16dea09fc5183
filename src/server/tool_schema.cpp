#include "server/tool_schema.h"

#include "server/api_error.h"

#include <fmt/format.h>

#include <set>

namespace tessera::server {
namespace {

using Json = nlohmann::ordered_json;

bool is_string_field(const Json& object, const char* key) { return object.contains(key) && object[key].is_string(); }

}  // namespace

void parse_tools(const Json& value, ToolParams& out) {
  if (!value.is_array()) bad_request(fmt::format("'tools' must be a list of tools, got {}", value.type_name()), "tools");
  std::set<std::string> names;
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& tool = value[i];
    const std::string where = fmt::format("tools[{}]", i);
    if (!tool.is_object()) bad_request(fmt::format("'{}' must be an object", where), where);
    if (!is_string_field(tool, "type") || tool["type"] != "function")
      bad_request(fmt::format("'{}.type' must be \"function\" (the only tool type supported)", where), where + ".type");
    if (!tool.contains("function") || !tool["function"].is_object())
      bad_request(fmt::format("'{}.function' must be an object", where), where + ".function");
    const Json& function = tool["function"];
    if (!is_string_field(function, "name") || function["name"].get<std::string>().empty())
      bad_request(fmt::format("'{}.function.name' must be a non-empty string", where), where + ".function.name");
    const std::string name = function["name"].get<std::string>();
    if (!names.insert(name).second)
      bad_request(fmt::format("'{}.function.name': '{}' is defined twice", where, name), where + ".function.name");
    if (function.contains("description") && !function["description"].is_null() && !function["description"].is_string())
      bad_request(fmt::format("'{}.function.description' must be a string", where), where + ".function.description");
    if (function.contains("parameters") && !function["parameters"].is_null() && !function["parameters"].is_object())
      bad_request(fmt::format("'{}.function.parameters' must be a JSON Schema object", where), where + ".function.parameters");
    if (function.contains("strict") && !function["strict"].is_null() && !function["strict"].is_boolean())
      bad_request(fmt::format("'{}.function.strict' must be a boolean", where), where + ".function.strict");
  }
  out.tools = value;
}

void parse_tool_choice(const Json& value, ToolParams& out) {
  if (value.is_string()) {
    const std::string s = value.get<std::string>();
    if (s == "none") out.choice = ToolChoice::kNone;
    else if (s == "auto") out.choice = ToolChoice::kAuto;
    else if (s == "required") out.choice = ToolChoice::kRequired;
    else bad_request(fmt::format("'tool_choice' must be \"none\", \"auto\", \"required\" or a function, got '{}'", s), "tool_choice");
    return;
  }
  if (!value.is_object() || !is_string_field(value, "type") || value["type"] != "function" || !value.contains("function") ||
      !value["function"].is_object() || !is_string_field(value["function"], "name"))
    bad_request("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}",
                "tool_choice");
  out.choice = ToolChoice::kNamed;
  out.forced_name = value["function"]["name"].get<std::string>();
}

void parse_parallel_tool_calls(const Json& value, ToolParams& out) {
  if (!value.is_boolean())
    bad_request(fmt::format("'parallel_tool_calls' must be a boolean, got {}", value.type_name()), "parallel_tool_calls");
  out.parallel = value.get<bool>();
}

void check_tool_choice(const ToolParams& params) {
  if ((params.choice == ToolChoice::kRequired || params.choice == ToolChoice::kNamed) && params.tools.empty())
    bad_request(fmt::format("'tool_choice' {} needs 'tools'", to_string(params.choice)), "tool_choice");
  if (params.choice != ToolChoice::kNamed) return;
  for (const Json& tool : params.tools)
    if (tool["function"]["name"] == params.forced_name) return;
  bad_request(fmt::format("'tool_choice' names the function '{}', which is not in 'tools'", params.forced_name), "tool_choice");
}

Json normalise_tool_calls(const Json& tool_calls, size_t index) {
  const std::string where = fmt::format("messages[{}].tool_calls", index);
  if (!tool_calls.is_array()) bad_request(fmt::format("'{}' must be a list", where), where);
  Json out = Json::array();
  for (size_t j = 0; j < tool_calls.size(); ++j) {
    const std::string at = fmt::format("{}[{}]", where, j);
    const Json& call = tool_calls[j];
    if (!call.is_object() || !call.contains("function") || !call["function"].is_object())
      bad_request(fmt::format("'{}' must be an object with a 'function' object", at), at);
    if (call.contains("type") && call["type"] != "function")
      bad_request(fmt::format("'{}.type' must be \"function\"", at), at + ".type");
    const Json& function = call["function"];
    if (!is_string_field(function, "name")) bad_request(fmt::format("'{}.function.name' must be a string", at), at + ".function.name");
    Json arguments = function.contains("arguments") ? function["arguments"] : Json::object();
    if (arguments.is_string()) {
      const std::string text = arguments.get<std::string>();
      // "" is what some clients send for a call without arguments.
      arguments = text.empty() ? Json::object() : Json::parse(text, nullptr, /*allow_exceptions=*/false);
    }
    if (!arguments.is_object())
      bad_request(fmt::format("'{}.function.arguments' must be a JSON object, or a string holding one", at), at + ".function.arguments");
    Json normalised = {{"type", "function"}, {"function", {{"name", function["name"]}, {"arguments", std::move(arguments)}}}};
    if (call.contains("id") && call["id"].is_string()) normalised["id"] = call["id"];
    out.push_back(std::move(normalised));
  }
  return out;
}

const char* to_string(ToolChoice choice) {
  switch (choice) {
    case ToolChoice::kNone: return "none";
    case ToolChoice::kAuto: return "auto";
    case ToolChoice::kRequired: return "required";
    case ToolChoice::kNamed: return "named";
  }
  return "auto";
}

}  // namespace tessera::server

// The tool-calling parameters of a chat completion request, validated (400 naming the field):
//
//   tools               [{"type": "function", "function": {"name", "description"?, "parameters"?: {...}}}]
//   tool_choice         "none" | "auto" | "required" | {"type": "function", "function": {"name": NAME}}
//   parallel_tool_calls bool
//
// and the tool-call history inside messages: an assistant message's tool_calls
// [{"id", "type": "function", "function": {"name", "arguments"}}], where OpenAI clients send
// `arguments` as a JSON *string*. Chat templates iterate `arguments|items`, so it is parsed into
// an object here, before rendering (a string that is not a JSON object is a 400).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace tessera::server {

enum class ToolChoice {
  kNone,      // the model must not call: tools are not rendered, output is not parsed
  kAuto,      // the model may call (the default when tools are given)
  kRequired,  // the model must call some tool
  kNamed,     // the model must call `ToolParams::forced_name`
};

struct ToolParams {
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();  // as given (validated); empty: none
  ToolChoice choice = ToolChoice::kAuto;
  std::string forced_name;   // kNamed: the function to call
  bool parallel = true;      // parallel_tool_calls: false keeps the first call only
  bool active() const { return !tools.empty() && choice != ToolChoice::kNone; }
  // "required" or a named function: decoding is constrained to a call (forced_tool_call.h).
  bool forced() const { return active() && (choice == ToolChoice::kRequired || choice == ToolChoice::kNamed); }
};

// Each validates and stores one request field. `tool_choice` may come before `tools` in the
// body: call check_tool_choice() once both are read.
void parse_tools(const nlohmann::ordered_json& value, ToolParams& out);
void parse_tool_choice(const nlohmann::ordered_json& value, ToolParams& out);
void parse_parallel_tool_calls(const nlohmann::ordered_json& value, ToolParams& out);
// A named tool_choice must name one of `tools`; "required"/named need tools at all.
void check_tool_choice(const ToolParams& params);

// messages[index].tool_calls, validated, with each function.arguments as a JSON object.
nlohmann::ordered_json normalise_tool_calls(const nlohmann::ordered_json& tool_calls, size_t index);

const char* to_string(ToolChoice choice);

}  // namespace tessera::server

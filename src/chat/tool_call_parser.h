// Model output → OpenAI tool calls, for the two formats of tool_call_format.h.
//
// The output is content text with tool-call blocks in it:
//   kQwenXml: <tool_call>\n<function=NAME>\n<parameter=P>\nVALUE\n</parameter>\n...</function>\n</tool_call>
//   kJson:    <tool_call>\n{"name": "NAME", "arguments": {...}}\n</tool_call>
// Each well-formed block naming one of the request's tools becomes a ToolCall whose `arguments`
// is a JSON object as text (OpenAI's shape); the whitespace around blocks is dropped. A block
// that does not parse, names an unknown tool, or is cut off by the end of the output stays in
// the content as the model wrote it: a malformed call is never lost and never an error.
//
// XML values are text; their JSON type comes from the tool's schema (vLLM's and llama.cpp's
// qwen3coder rule): a parameter declared "string" keeps the raw text; one declared as another
// type is parsed as that type (booleans also as Python's True/False, null as None); one the
// schema does not type is JSON when the text parses as JSON, else a string.
//
// Streaming (ToolCallStreamParser) gives exactly the one-shot result however the text is split:
// text that might still become "<tool_call>" (or whitespace that would be dropped before one) is
// held back, and a block is released as one whole call when its "</tool_call>" arrives.
#pragma once

#include "chat/tool_call_format.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

struct ToolCall {
  std::string name;
  std::string arguments;  // a JSON object, serialised
};

// What the parser needs from the request's `tools` (OpenAI function tools): the names it may
// call and each parameter's declared JSON types.
class ToolSet {
 public:
  ToolSet() = default;
  // `tools`: [{"type": "function", "function": {"name", "parameters": {"properties": {...}}}}]
  // (already validated; entries without a name are skipped).
  explicit ToolSet(const nlohmann::ordered_json& tools);

  bool has(const std::string& name) const { return params_.count(name) != 0; }
  // The declared types of `tool`'s parameter `param` ("string", "integer", ...): empty when the
  // schema does not say.
  std::vector<std::string> param_types(const std::string& tool, const std::string& param) const;

 private:
  std::map<std::string, std::map<std::string, std::vector<std::string>>> params_;
};

struct ParsedToolOutput {
  std::string content;
  std::vector<ToolCall> tool_calls;
};

ParsedToolOutput parse_tool_calls(std::string_view text, ToolCallFormat format, const ToolSet& tools);

// One piece of streamed tool-call output, in the shape of OpenAI's delta.tool_calls[i]: `index`
// counts the calls of this output from 0.
struct ToolCallDelta {
  int index = 0;
  ToolCall call;
};

class ToolCallStreamParser {
 public:
  ToolCallStreamParser(ToolCallFormat format, ToolSet tools);

  struct Delta {
    std::string content;
    std::vector<ToolCallDelta> tool_calls;
  };
  Delta push(std::string_view text);
  // End of output: an unfinished block is released as content.
  Delta flush();

  int calls() const { return calls_; }

 private:
  void run(Delta& out, bool at_end);

  ToolCallFormat format_;
  ToolSet tools_;
  std::string buf_;          // text not yet released
  bool in_block_ = false;    // buf_ holds "<tool_call>" (after any whitespace before it)
  size_t scanned_ = 0;       // in a block: "</tool_call>" does not start before this offset
  bool after_call_ = false;  // the last thing released was a call: leading whitespace is dropped
  int calls_ = 0;
};

}  // namespace tessera

// How a model writes a tool call, read off its chat template. Rendering (the template itself),
// parsing the model's output into OpenAI tool_calls, and constraining decoding to a valid call
// all key off this one value.
//
//   kQwenXml (Qwen3.5, Qwen3-Coder):   <tool_call>\n<function=NAME>\n<parameter=ARG>\nVALUE\n</parameter>\n</function>\n</tool_call>
//                                      (string values raw, other values as JSON)
//   kJson    (Qwen3, Qwen2.5, Hermes): <tool_call>\n{"name": "NAME", "arguments": {...}}\n</tool_call>
#pragma once

#include <string_view>

namespace tessera {

enum class ToolCallFormat {
  kNone,     // the template cannot render tools
  kQwenXml,
  kJson,
};

// Detects the format from the template source: the XML form's template spells "<function=",
// the JSON form's spells a "name"/"arguments" object inside <tool_call>.
ToolCallFormat detect_tool_call_format(std::string_view chat_template);

const char* to_string(ToolCallFormat format);

}  // namespace tessera

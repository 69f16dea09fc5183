#include "chat/tool_call_format.h"

namespace tessera {

ToolCallFormat detect_tool_call_format(std::string_view chat_template) {
  if (chat_template.find("<tool_call>") == std::string_view::npos) return ToolCallFormat::kNone;
  if (chat_template.find("<function=") != std::string_view::npos) return ToolCallFormat::kQwenXml;
  if (chat_template.find("\"arguments\"") != std::string_view::npos) return ToolCallFormat::kJson;
  return ToolCallFormat::kNone;
}

const char* to_string(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::kQwenXml: return "qwen_xml";
    case ToolCallFormat::kJson: return "json";
    case ToolCallFormat::kNone: break;
  }
  return "none";
}

}  // namespace tessera

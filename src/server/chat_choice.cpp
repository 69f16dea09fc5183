#include "server/chat_choice.h"

namespace tessera::server {

ChatChoiceBuilder::ChatChoiceBuilder(const ToolParams& tools, ToolCallFormat format) : parallel_(tools.parallel) {
  if (tools.active() && format != ToolCallFormat::kNone) parser_.emplace(format, ToolSet(tools.tools));
}

ChatChoiceBuilder::Delta ChatChoiceBuilder::push(const TextDelta& delta) {
  Delta out;
  out.reasoning = delta.reasoning;
  if (!parser_) {
    out.content = delta.content;
    return keep(std::move(out));
  }
  ToolCallStreamParser::Delta parsed = parser_->push(delta.content);
  out.content = std::move(parsed.content);
  out.tool_calls = std::move(parsed.tool_calls);
  return keep(std::move(out));
}

ChatChoiceBuilder::Delta ChatChoiceBuilder::finish() {
  Delta out;
  if (!parser_) return out;
  ToolCallStreamParser::Delta parsed = parser_->flush();
  out.content = std::move(parsed.content);
  out.tool_calls = std::move(parsed.tool_calls);
  return keep(std::move(out));
}

// Records `delta` in the whole choice. parallel_tool_calls = false keeps the first call only.
ChatChoiceBuilder::Delta ChatChoiceBuilder::keep(Delta delta) {
  if (!parallel_) std::erase_if(delta.tool_calls, [](const ToolCallDelta& d) { return d.index > 0; });
  reasoning_ += delta.reasoning;
  content_ += delta.content;
  for (const ToolCallDelta& d : delta.tool_calls) tool_calls_.push_back(d.call);
  return delta;
}

const char* ChatChoiceBuilder::finish_reason(FinishReason reason) const {
  if (reason == FinishReason::kStop && !tool_calls_.empty()) return "tool_calls";
  return finish_reason_name(reason);
}

}  // namespace tessera::server

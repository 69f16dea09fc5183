#include "server/forced_tool_call.h"

#include "engine/tool_call_grammar.h"
#include "server/api_error.h"
#include "util/error.h"

#include <fmt/format.h>

namespace tessera::server {

std::optional<Grammar> forced_tool_call_grammar(const ToolParams& tools, ToolCallFormat format,
                                                ReasoningSplitter::Start reasoning) {
  if (!tools.forced()) return std::nullopt;
  const std::optional<std::string> name =
      tools.choice == ToolChoice::kNamed ? std::optional<std::string>(tools.forced_name) : std::nullopt;
  const std::string prefix = reasoning == ReasoningSplitter::Start::kInReasoning ? "</think>\n\n" : "";
  try {
    return tool_call_grammar(tools.tools, format, name, tools.parallel, prefix);
  } catch (const Error& e) {
    bad_request(fmt::format("'tool_choice' {} is enforced by constrained decoding, which cannot follow these tools: {}",
                            to_string(tools.choice), e.what()),
                "tools");
  }
}

}  // namespace tessera::server

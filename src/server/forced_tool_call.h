// tool_choice "required" or a named function, enforced: the answer is constrained to the model's
// own tool-call syntax (engine/tool_call_grammar.h), so it always parses into tool_calls with
// arguments valid under each tool's `parameters` schema (unless max_tokens cuts it short).
#pragma once

#include "chat/tool_call_format.h"
#include "engine/grammar.h"
#include "engine/reasoning_split.h"
#include "server/tool_schema.h"

#include <optional>

namespace tessera::server {

// The grammar every choice of the request follows, or nullopt when the call is not forced
// ("auto", "none", no tools). `reasoning`: a prompt that opened a <think> block gets it closed
// first. A tool whose schema the grammar compiler does not support is a 400 naming `tools`.
std::optional<Grammar> forced_tool_call_grammar(const ToolParams& tools, ToolCallFormat format,
                                                ReasoningSplitter::Start reasoning);

}  // namespace tessera::server

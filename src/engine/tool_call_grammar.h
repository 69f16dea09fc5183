// The grammar of a forced tool call (tool_choice "required" or a named function), in the model's
// own syntax (chat/tool_call_format.h), with each call's arguments following its function's
// `parameters` JSON Schema (json_schema_grammar.h for the supported subset).
//
//   kJson:    <tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>
//             ARGS compact-or-spaced JSON per the schema; the key order and spacing around
//             "name"/"arguments" are exactly as Qwen's templates render them.
//   kQwenXml: <tool_call>\n<function=NAME>\n<parameter=P>\nVALUE\n</parameter>\n...</function>\n</tool_call>
//             parameters in the schema's order, required ones always, optional ones maybe.
//             A parameter whose schema has "type": "string" is raw text: valid UTF-8, no line
//             starting with '<' (so "\n</parameter>" cannot occur inside), with enum,
//             maxLength and minLength ≤ 1 supported; any other parameter is JSON per its schema.
// With `parallel`, one or more calls separated by "\n"; otherwise exactly one. `<tool_call>` and
// `</tool_call>` are single added tokens in Qwen vocabularies: the token trie holds them, so
// either that token or the same bytes spelled out satisfy the grammar.
#pragma once

#include "chat/tool_call_format.h"
#include "engine/grammar.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace tessera {

// `tools`: the request's OpenAI tools list ([{"type": "function", "function": {"name",
// "parameters"}}]). `forced_name`: only that function (a tessera::Error if it is not listed).
// `prefix`: literal text before the first call (e.g. "</think>\n\n"). Throws tessera::Error
// naming the tool and keyword for a malformed tool or an unsupported schema keyword.
Grammar tool_call_grammar(const nlohmann::ordered_json& tools, ToolCallFormat format,
                          const std::optional<std::string>& forced_name, bool parallel,
                          const std::string& prefix = {});

}  // namespace tessera

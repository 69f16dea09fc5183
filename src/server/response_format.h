// The `response_format` request parameter (both endpoints) and the decoding constraint it asks for.
//   {"type": "text"}                     no constraint (the default)
//   {"type": "json_object"}              the output is one JSON object
//   {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}, "strict": bool,
//    "description": ...}}                the output is a JSON value valid under `schema`
// JSON output is enforced by constrained decoding (engine/json_schema_grammar.h lists the schema
// subset): it always parses and validates, unless max_tokens or the context ends it first
// (finish_reason "length", the JSON then cut short, as with OpenAI). `strict` is accepted either
// way; the schema is always enforced.
#pragma once

#include "engine/decoding_constraint.h"
#include "engine/reasoning_split.h"
#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace tessera::server {

struct ResponseFormat {
  enum class Kind { kText, kJsonObject, kJsonSchema };
  Kind kind = Kind::kText;
  std::shared_ptr<const nlohmann::ordered_json> schema;  // kJsonSchema
};

// 400 naming the field for a malformed value (the schema's keywords are checked when compiled).
ResponseFormat parse_response_format(const nlohmann::ordered_json& value);

// Null for kText. Compiles the schema: an unsupported or malformed keyword is a 400 naming it.
// `reasoning`: when the prompt has opened a <think> block, the output starts by closing it
// ("</think>\n\n"), so the reasoning is empty and the whole budget goes to the JSON answer.
std::shared_ptr<DecodingConstraint> make_response_constraint(const Tokenizer& tokenizer, const ResponseFormat& format,
                                                             ReasoningSplitter::Start reasoning);

}  // namespace tessera::server

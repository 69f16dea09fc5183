// JSON Schema (the subset OpenAI's structured outputs use) → Grammar, for constrained decoding.
//
// The grammar generates a subset of the documents the schema accepts, never a superset: whatever
// the model writes under it parses and validates. So keywords that only widen (additionalProperties
// true, optional properties) may be narrowed (only the listed properties, in the order given),
// while every keyword that restricts is enforced or refused with a tessera::Error naming it and
// its path ("unsupported JSON Schema keyword 'pattern' at $.properties.zip").
//
// Supported: type (one or a list, e.g. ["string", "null"]), nullable, enum, const, anyOf, oneOf
// (as anyOf: the options must not overlap), allOf with one entry, $ref to #, #/$defs/... and
// #/definitions/... (recursion allowed);
//   object: properties, required, additionalProperties (false, true or a schema; with properties
//           only the listed ones are generated);
//   array:  items, minItems, maxItems;
//   string: minLength, maxLength (in code points);
//   integer: minimum / exclusiveMinimum as a lower bound ≥ 0 up to 9, or both bounds with at most
//            1000 values between them;
//   annotations (title, description, default, examples, $comment, $schema, $id, deprecated, ...)
//   are ignored.
// Refused: pattern, format, multipleOf, minimum/maximum on numbers otherwise, uniqueItems: true,
// prefixItems, contains, patternProperties, minProperties, maxProperties, not, if/then/else, ...
//
// Output shape: strings are valid UTF-8 with JSON escapes (no lone surrogates); numbers have at
// most 16 integer and 16 fraction digits and a 2-digit exponent; whitespace between tokens is
// nothing, one space, or a newline and up to 20 spaces/tabs, so a model cannot pad forever.
#pragma once

#include "engine/grammar.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessera {

// Adds JSON rules to a GrammarBuilder; used for response_format and tool-call arguments.
class JsonSchemaCompiler {
 public:
  // `root_schema` resolves "#" and "#/$defs/..." references; it must outlive the compiler.
  JsonSchemaCompiler(GrammarBuilder& builder, const nlohmann::ordered_json& root_schema);

  // A value valid under `schema`; `path` names it in errors ("$", "$.properties.name").
  GrammarExpr value(const nlohmann::ordered_json& schema, const std::string& path);
  GrammarExpr any_value();
  GrammarExpr any_object();
  GrammarExpr whitespace();
  GrammarExpr string_literal(const std::string& text);  // the JSON encoding of `text`
  // A JSON string's characters (no quotes) as one code point: plain UTF-8 or an escape.
  GrammarExpr string_char();

 private:
  GrammarExpr typed_value(const nlohmann::ordered_json& schema, const std::string& type, const std::string& path);
  GrammarExpr object(const nlohmann::ordered_json& schema, const std::string& path);
  GrammarExpr array(const nlohmann::ordered_json& schema, const std::string& path);
  GrammarExpr string(const nlohmann::ordered_json& schema, const std::string& path);
  GrammarExpr integer(const nlohmann::ordered_json& schema, const std::string& path);
  GrammarExpr number(const nlohmann::ordered_json& schema, const std::string& path);
  GrammarExpr reference(const std::string& ref, const std::string& path);
  GrammarExpr cached(const std::string& name, const std::function<GrammarExpr()>& make);

  GrammarBuilder& b_;
  const nlohmann::ordered_json& root_;
  std::map<std::string, int32_t> rules_;  // shared rules by name: ws, char, value, $ref targets
};

// {"type": "json_object"}: any JSON object. `prefix`: literal text before it (the server passes
// "</think>\n\n" when the prompt has opened a reasoning block, so the answer is the JSON).
Grammar json_object_grammar(const std::string& prefix = {});
// {"type": "json_schema"}: a value valid under `schema` (throws tessera::Error naming an
// unsupported keyword).
Grammar json_schema_grammar(const nlohmann::ordered_json& schema, const std::string& prefix = {});

// A set of literal strings as a grammar that shares common prefixes (a trie), so the matcher
// keeps one stack per distinct next byte instead of one per string.
GrammarExpr literal_set(const std::vector<std::string>& texts);

}  // namespace tessera

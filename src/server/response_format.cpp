#include "server/response_format.h"

#include "engine/grammar_constraint.h"
#include "engine/json_schema_grammar.h"
#include "server/api_error.h"
#include "util/error.h"

#include <fmt/format.h>

namespace tessera::server {

using Json = nlohmann::ordered_json;

ResponseFormat parse_response_format(const Json& value) {
  if (!value.is_object() || !value.contains("type") || !value["type"].is_string())
    bad_request("'response_format' must be an object with a string 'type'", "response_format");
  const std::string type = value["type"].get<std::string>();
  ResponseFormat format;
  if (type == "text" || type == "json_object") {
    for (const auto& [key, v] : value.items())
      if (key != "type") bad_request(fmt::format("Unrecognized field 'response_format.{}' for type '{}'", key, type), "response_format." + key);
    format.kind = type == "text" ? ResponseFormat::Kind::kText : ResponseFormat::Kind::kJsonObject;
    return format;
  }
  if (type != "json_schema")
    bad_request(fmt::format("'response_format.type' must be 'text', 'json_object' or 'json_schema', got '{}'", type), "response_format.type");
  for (const auto& [key, v] : value.items())
    if (key != "type" && key != "json_schema") bad_request(fmt::format("Unrecognized field 'response_format.{}'", key), "response_format." + key);
  if (!value.contains("json_schema") || !value["json_schema"].is_object())
    bad_request("'response_format.json_schema' must be an object with a 'schema'", "response_format.json_schema");
  const Json& js = value["json_schema"];
  for (const auto& [key, v] : js.items()) {
    const std::string field = "response_format.json_schema." + key;
    if (key == "name" || key == "description") {
      if (!v.is_string()) bad_request(fmt::format("'{}' must be a string", field), field);
    } else if (key == "strict") {
      if (!v.is_boolean() && !v.is_null()) bad_request(fmt::format("'{}' must be a boolean", field), field);
    } else if (key != "schema") {
      bad_request(fmt::format("Unrecognized field '{}'", field), field);
    }
  }
  if (!js.contains("schema") || !(js["schema"].is_object() || js["schema"].is_boolean()))
    bad_request("'response_format.json_schema.schema' must be a JSON Schema object", "response_format.json_schema.schema");
  format.kind = ResponseFormat::Kind::kJsonSchema;
  format.schema = std::make_shared<const Json>(js["schema"]);
  return format;
}

std::shared_ptr<DecodingConstraint> make_response_constraint(const Tokenizer& tokenizer, const ResponseFormat& format,
                                                             ReasoningSplitter::Start reasoning) {
  if (format.kind == ResponseFormat::Kind::kText) return nullptr;
  const std::string prefix = reasoning == ReasoningSplitter::Start::kInReasoning ? "</think>\n\n" : "";
  try {
    return make_grammar_constraint(format.kind == ResponseFormat::Kind::kJsonObject ? json_object_grammar(prefix)
                                                                                    : json_schema_grammar(*format.schema, prefix),
                                   tokenizer);
  } catch (const Error& e) {
    bad_request(fmt::format("response_format: {}", e.what()), "response_format.json_schema.schema");
  }
}

}  // namespace tessera::server

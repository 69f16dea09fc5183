#include "engine/tool_call_grammar.h"

#include "engine/json_schema_grammar.h"
#include "util/error.h"

#include <set>

namespace tessera {
namespace {

using Json = nlohmann::ordered_json;
using E = GrammarExpr;

// Parameters of type "string" are written raw in the XML form (the parser takes the text as is).
bool is_raw_string(const Json& schema) { return schema.is_object() && schema.contains("type") && schema["type"] == "string"; }

// Raw text of an XML-form string parameter: well-formed UTF-8 where no line starts with '<', so
// the closing "\n</parameter>" is unambiguous; at most `max_chars` code points (kUnbounded: any),
// at least one if `non_empty`.
E raw_text(GrammarBuilder& b, int max_chars, bool non_empty) {
  ByteClass ascii = ByteClass::range(0x20, 0x7F);
  ascii.add('\t').add('\r');
  ByteClass ascii_no_lt = ascii;
  ascii_no_lt.remove('<');
  const int32_t mb = b.add("utf8_multibyte", E::utf8_multibyte());
  const E line_char = E::rule(b.add("line_char", E::choice({E::bytes(ascii), E::rule(mb)})));
  const E line_start = E::choice({E::bytes(ascii_no_lt), E::rule(mb)});
  // A newline is always followed by a character that does not open a tag.
  const E newline_then_char = E::sequence({E::literal("\n"), line_start});
  if (max_chars == E::kUnbounded) {
    // Unbounded text may also hold blank lines.
    const E newlines_then_char = E::sequence({E::repeat(E::literal("\n"), 1, E::kUnbounded), line_start});
    const E unit = E::rule(b.add("raw_unit", E::choice({line_char, newlines_then_char})));
    return non_empty ? E::sequence({line_char, E::repeat(unit, 0, E::kUnbounded)}) : E::repeat(unit, 0, E::kUnbounded);
  }
  // rest[k]: at most k more code points (a newline and the character after it count as two).
  std::vector<E> rest = {E::empty()};
  for (int k = 1; k <= max_chars; ++k) {
    std::vector<E> options = {E::empty(), E::sequence({line_char, rest[static_cast<size_t>(k - 1)]})};
    if (k >= 2) options.push_back(E::sequence({newline_then_char, rest[static_cast<size_t>(k - 2)]}));
    rest.push_back(E::rule(b.add("raw_rest", E::choice(std::move(options)))));
  }
  if (!non_empty) return rest.back();
  if (max_chars == 0) fail("a string parameter with minLength > maxLength");
  return E::sequence({line_char, rest[static_cast<size_t>(max_chars - 1)]});
}

E raw_string_value(const Json& schema, const std::string& where, GrammarBuilder& b) {
  for (const auto& [key, v] : schema.items()) {
    if (key == "type" || key == "enum" || key == "minLength" || key == "maxLength" || key == "title" ||
        key == "description" || key == "default" || key == "examples")
      continue;
    fail("unsupported JSON Schema keyword '{}' at {} (a string parameter written raw in the XML tool-call form)", key, where);
  }
  if (schema.contains("enum")) {
    std::vector<std::string> texts;
    for (const Json& v : schema["enum"]) {
      if (!v.is_string()) fail("JSON Schema 'enum' at {} must list strings for a string parameter", where);
      texts.push_back(v.get<std::string>());
    }
    return literal_set(texts);
  }
  auto bound = [&](const char* key) {
    if (!schema.contains(key)) return -2;
    const Json& v = schema[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 100000)
      fail("JSON Schema '{}' at {} must be an integer in [0, 100000]", key, where);
    return static_cast<int>(v.get<int64_t>());
  };
  const int min = bound("minLength"), max = bound("maxLength");
  if (min > 1) fail("JSON Schema 'minLength' above 1 at {} is not supported for a raw XML string parameter", where);
  return raw_text(b, max == -2 ? E::kUnbounded : max, min == 1);
}

E xml_call(const std::string& name, const Json& parameters, const std::string& where, GrammarBuilder& b) {
  JsonSchemaCompiler json(b, parameters);
  const Json properties = parameters.is_object() && parameters.contains("properties") ? parameters["properties"] : Json::object();
  std::set<std::string> required;
  if (parameters.is_object() && parameters.contains("required") && parameters["required"].is_array())
    for (const Json& r : parameters["required"])
      if (r.is_string()) required.insert(r.get<std::string>());
  std::vector<E> items = {E::literal("<function=" + name + ">\n")};
  for (const auto& [param, schema] : properties.items()) {
    const std::string at = fmt::format("{}.properties.{}", where, param);
    const E value = is_raw_string(schema) ? raw_string_value(schema, at, b) : json.value(schema, at);
    const E block = E::sequence({E::literal("<parameter=" + param + ">\n"), value, E::literal("\n</parameter>\n")});
    items.push_back(required.count(param) ? block : E::optional(block));
  }
  items.push_back(E::literal("</function>"));
  return E::sequence(std::move(items));
}

E json_call(const std::string& name, const Json& parameters, const std::string& where, GrammarBuilder& b) {
  JsonSchemaCompiler json(b, parameters);
  const E args = parameters.is_null() ? json.any_object() : json.value(parameters, where);
  return E::sequence({E::literal("{\"name\": " + Json(name).dump() + ", \"arguments\": "), args, E::literal("}")});
}

}  // namespace

Grammar tool_call_grammar(const Json& tools, ToolCallFormat format, const std::optional<std::string>& forced_name,
                          bool parallel, const std::string& prefix) {
  if (format == ToolCallFormat::kNone) fail("the chat template cannot render tool calls, so none can be forced");
  if (!tools.is_array() || tools.empty()) fail("'tools' must be a non-empty list to force a tool call");
  GrammarBuilder b;
  std::vector<E> calls;
  for (size_t i = 0; i < tools.size(); ++i) {
    const Json& tool = tools[i];
    const std::string where = fmt::format("tools[{}].function.parameters", i);
    if (!tool.is_object() || !tool.contains("function") || !tool["function"].is_object() ||
        !tool["function"].contains("name") || !tool["function"]["name"].is_string())
      fail("tools[{}] must be {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}", i);
    const Json& function = tool["function"];
    const std::string name = function["name"].get<std::string>();
    if (forced_name && name != *forced_name) continue;
    const Json parameters = function.contains("parameters") ? function["parameters"] : Json();
    calls.push_back(format == ToolCallFormat::kQwenXml ? xml_call(name, parameters.is_null() ? Json::object() : parameters, where, b)
                                                       : json_call(name, parameters, where, b));
  }
  if (calls.empty()) fail("tool_choice names function '{}', which is not in 'tools'", forced_name.value_or(""));
  const E call = E::rule(b.add("tool_call", E::sequence({E::literal("<tool_call>\n"), E::choice(std::move(calls)), E::literal("\n</tool_call>")})));
  const E body = parallel ? E::sequence({call, E::repeat(E::sequence({E::literal("\n"), call}), 0, E::kUnbounded)}) : call;
  const int32_t root = b.add("root", E::sequence({E::literal(prefix), body}));
  return b.build(root);
}

}  // namespace tessera

#include "engine/tool_call_grammar.h"

#include "engine/json_schema_grammar.h"
#include "util/error.h"

#include <set>

namespace tessera {
namespace {

using Json = nlohmann::ordered_json;
using E = GrammarExpr;

bool is_raw_string(const Json& schema) {
  if (!schema.is_object() || !schema.contains("type") || schema["type"] != "string") return false;
  for (const auto& [key, v] : schema.items())
    if (key != "type" && key != "enum" && key != "title" && key != "description" && key != "default" && key != "examples")
      return false;
  if (schema.contains("enum"))
    for (const Json& v : schema["enum"])
      if (!v.is_string()) return false;
  return true;
}

// Raw text of an XML-form string parameter: UTF-8 characters where no line starts with '<', so
// the closing "\n</parameter>" is unambiguous.
E raw_text(GrammarBuilder& b) {
  ByteClass ascii = ByteClass::range(0x20, 0x7F);
  ascii.add('\t').add('\r');
  ByteClass ascii_no_lt = ascii;
  ascii_no_lt.remove('<');
  const E cont = E::bytes(ByteClass::range(0x80, 0xBF));
  const E multibyte = E::choice({
      E::sequence({E::bytes(ByteClass::range(0xC2, 0xDF)), cont}),
      E::sequence({E::literal("\xE0"), E::bytes(ByteClass::range(0xA0, 0xBF)), cont}),
      E::sequence({E::bytes(ByteClass::range(0xE1, 0xEC).add(0xEE).add(0xEF)), cont, cont}),
      E::sequence({E::literal("\xED"), E::bytes(ByteClass::range(0x80, 0x9F)), cont}),
      E::sequence({E::literal("\xF0"), E::bytes(ByteClass::range(0x90, 0xBF)), cont, cont}),
      E::sequence({E::bytes(ByteClass::range(0xF1, 0xF3)), cont, cont, cont}),
      E::sequence({E::literal("\xF4"), E::bytes(ByteClass::range(0x80, 0x8F)), cont, cont})});
  const int32_t mb = b.add("utf8_multibyte", multibyte);
  const E line_char = E::choice({E::bytes(ascii), E::rule(mb)});
  const E line_start = E::choice({E::bytes(ascii_no_lt), E::rule(mb)});
  // unit: a char on the current line, or newline(s) starting a line that does not open a tag
  const E unit = E::choice({line_char, E::sequence({E::repeat(E::literal("\n"), 1, E::kUnbounded), line_start})});
  return E::repeat(E::rule(b.add("raw_unit", unit)), 0, E::kUnbounded);
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
    E value = E::empty();
    if (is_raw_string(schema)) {
      if (schema.contains("enum")) {
        std::vector<std::string> texts;
        for (const Json& v : schema["enum"]) texts.push_back(v.get<std::string>());
        value = literal_set(texts);
      } else {
        value = raw_text(b);
      }
    } else {
      value = json.value(schema, where + ".properties." + param);
    }
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

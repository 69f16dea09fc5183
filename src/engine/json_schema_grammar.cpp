#include "engine/json_schema_grammar.h"

#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>

namespace tessera {
namespace {

using Json = nlohmann::ordered_json;
using E = GrammarExpr;

E cls(uint8_t lo, uint8_t hi) { return E::bytes(ByteClass::range(lo, hi)); }
E lit(std::string_view text) { return E::literal(text); }

// Keywords that describe without restricting, and the structural ones handled elsewhere.
const std::set<std::string>& ignored_keywords() {
  static const std::set<std::string> k = {"title", "description", "default", "examples", "$comment", "$schema",
                                          "$id", "deprecated", "readOnly", "writeOnly", "$defs", "definitions"};
  return k;
}

const std::set<std::string>& supported_keywords() {
  static const std::set<std::string> k = {
      "type", "nullable", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
      "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
      "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
  return k;
}

void check_keywords(const Json& schema, const std::string& path) {
  for (const auto& [key, value] : schema.items()) {
    if (ignored_keywords().count(key) || supported_keywords().count(key)) continue;
    if (key == "uniqueItems" && value == false) continue;  // false restricts nothing
    fail("unsupported JSON Schema keyword '{}' at {}", key, path);
  }
}

int non_negative(const Json& schema, const char* key, const std::string& path) {
  const Json& v = schema[key];
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 100000)
    fail("JSON Schema '{}' at {} must be an integer in [0, 100000], got {}", key, path, v.dump());
  return static_cast<int>(v.get<int64_t>());
}

// Unescapes one JSON Pointer token (~1 is '/', ~0 is '~').
std::string pointer_token(std::string_view t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '~' && i + 1 < t.size() && (t[i + 1] == '0' || t[i + 1] == '1')) {
      out += t[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += t[i];
    }
  }
  return out;
}

E literal_trie(std::vector<std::string_view> texts) {
  std::vector<E> options;
  size_t i = 0;
  if (!texts.empty() && texts[0].empty()) {
    options.push_back(E::empty());
    i = 1;
  }
  while (i < texts.size()) {
    const char first = texts[i][0];
    std::vector<std::string_view> rest;
    for (; i < texts.size() && texts[i][0] == first; ++i) rest.push_back(texts[i].substr(1));
    options.push_back(E::sequence({lit(std::string_view(&first, 1)), literal_trie(std::move(rest))}));
  }
  return E::choice(std::move(options));
}

}  // namespace

GrammarExpr literal_set(const std::vector<std::string>& texts) {
  std::vector<std::string> sorted = texts;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  TS_CHECK(!sorted.empty(), "literal_set needs at least one string");
  return literal_trie(std::vector<std::string_view>(sorted.begin(), sorted.end()));
}

JsonSchemaCompiler::JsonSchemaCompiler(GrammarBuilder& builder, const Json& root_schema)
    : b_(builder), root_(root_schema) {}

GrammarExpr JsonSchemaCompiler::cached(const std::string& name, const std::function<GrammarExpr()>& make) {
  if (auto it = rules_.find(name); it != rules_.end()) return E::rule(it->second);
  const int32_t id = b_.declare(name);
  rules_[name] = id;  // before make(): recursive references find it
  b_.define(id, make());
  return E::rule(id);
}

GrammarExpr JsonSchemaCompiler::whitespace() {
  return cached("ws", [] {
    return E::choice({E::empty(), lit(" "), E::sequence({lit("\n"), E::repeat(E::bytes(ByteClass().add(' ').add('\t')), 0, 20)})});
  });
}

GrammarExpr JsonSchemaCompiler::string_char() {
  return cached("char", [] {
    const E hex = E::bytes(ByteClass::range('0', '9').add_range('a', 'f').add_range('A', 'F'));
    // \uXXXX except the surrogates D800-DFFF, which a parser rejects unpaired.
    const E unicode = E::sequence({lit("\\u"), E::choice({
        E::sequence({E::bytes(ByteClass::range('0', '9').add_range('a', 'c').add_range('A', 'C')), hex, hex, hex}),
        E::sequence({E::bytes(ByteClass().add('d').add('D')), cls('0', '7'), hex, hex}),
        E::sequence({E::bytes(ByteClass::range('e', 'f').add_range('E', 'F')), hex, hex, hex})})});
    return E::choice({
        E::bytes(ByteClass::range(0x20, 0x7F).remove('"').remove('\\')),
        E::utf8_multibyte(),  // well-formed UTF-8 only: the parser rejects anything else
        E::sequence({lit("\\"), E::bytes(ByteClass().add('"').add('\\').add('/').add('b').add('f').add('n').add('r').add('t'))}),
        unicode});
  });
}

GrammarExpr JsonSchemaCompiler::string_literal(const std::string& text) { return lit(Json(text).dump()); }

GrammarExpr JsonSchemaCompiler::any_value() {
  return cached("value", [this] {
    return E::choice({any_object(),
                      E::sequence({lit("["), whitespace(),
                                   E::optional(E::sequence({any_value(),
                                                            E::repeat(E::sequence({whitespace(), lit(","), whitespace(), any_value()}), 0, E::kUnbounded),
                                                            whitespace()})),
                                   lit("]")}),
                      string(Json::object(), "$"), number(Json::object(), "$"), lit("true"), lit("false"), lit("null")});
  });
}

GrammarExpr JsonSchemaCompiler::any_object() {
  return cached("object", [this] {
    const E member = E::sequence({string(Json::object(), "$"), whitespace(), lit(":"), whitespace(), any_value()});
    return E::sequence({lit("{"), whitespace(),
                        E::optional(E::sequence({member, E::repeat(E::sequence({whitespace(), lit(","), whitespace(), member}), 0, E::kUnbounded),
                                                 whitespace()})),
                        lit("}")});
  });
}

GrammarExpr JsonSchemaCompiler::value(const Json& schema, const std::string& path) {
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) fail("the JSON Schema at {} is false: no value can satisfy it", path);
    return any_value();
  }
  if (!schema.is_object()) fail("the JSON Schema at {} must be an object or a boolean, got {}", path, schema.type_name());
  check_keywords(schema, path);

  auto restricting_siblings = [&](const char* keyword) {
    for (const auto& [key, v] : schema.items())
      if (key != keyword && !ignored_keywords().count(key))
        fail("JSON Schema '{}' at {} combined with '{}' is not supported", keyword, path, key);
  };

  if (schema.contains("$ref")) {
    restricting_siblings("$ref");
    if (!schema["$ref"].is_string()) fail("JSON Schema '$ref' at {} must be a string", path);
    return reference(schema["$ref"].get<std::string>(), path);
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema.contains(key)) continue;
    restricting_siblings(key);
    const Json& options = schema[key];
    if (!options.is_array() || options.empty()) fail("JSON Schema '{}' at {} must be a non-empty list", key, path);
    std::vector<E> alts;
    for (size_t i = 0; i < options.size(); ++i) alts.push_back(value(options[i], fmt::format("{}.{}[{}]", path, key, i)));
    return E::choice(std::move(alts));
  }
  if (schema.contains("allOf")) {
    restricting_siblings("allOf");
    const Json& all = schema["allOf"];
    if (!all.is_array() || all.size() != 1) fail("JSON Schema 'allOf' at {} is supported with exactly one entry", path);
    return value(all[0], path + ".allOf[0]");
  }
  if (schema.contains("const")) {
    return lit(schema["const"].dump());
  }
  if (schema.contains("enum")) {
    const Json& values = schema["enum"];
    if (!values.is_array() || values.empty()) fail("JSON Schema 'enum' at {} must be a non-empty list", path);
    std::vector<std::string> texts;
    for (const Json& v : values) texts.push_back(v.dump());
    return literal_set(texts);
  }

  std::vector<std::string> types;
  if (schema.contains("type")) {
    const Json& t = schema["type"];
    if (t.is_string()) types.push_back(t.get<std::string>());
    else if (t.is_array() && !t.empty())
      for (const Json& one : t) {
        if (!one.is_string()) fail("JSON Schema 'type' at {} must be a string or a list of strings", path);
        types.push_back(one.get<std::string>());
      }
    else fail("JSON Schema 'type' at {} must be a string or a non-empty list of strings", path);
  } else if (schema.contains("properties") || schema.contains("additionalProperties") || schema.contains("required")) {
    types.emplace_back("object");
  } else if (schema.contains("items")) {
    types.emplace_back("array");
  } else {
    return any_value();
  }
  if (schema.contains("nullable") && schema["nullable"] == true &&
      std::find(types.begin(), types.end(), "null") == types.end())
    types.emplace_back("null");
  std::vector<E> alts;
  alts.reserve(types.size());
  for (const std::string& t : types) alts.push_back(typed_value(schema, t, path));
  return E::choice(std::move(alts));
}

GrammarExpr JsonSchemaCompiler::typed_value(const Json& schema, const std::string& type, const std::string& path) {
  if (type == "object") return object(schema, path);
  if (type == "array") return array(schema, path);
  if (type == "string") return string(schema, path);
  if (type == "integer") return integer(schema, path);
  if (type == "number") return number(schema, path);
  if (type == "boolean") return E::choice({lit("true"), lit("false")});
  if (type == "null") return lit("null");
  fail("unknown JSON Schema type '{}' at {}", type, path);
}

GrammarExpr JsonSchemaCompiler::object(const Json& schema, const std::string& path) {
  const Json properties = schema.contains("properties") ? schema["properties"] : Json::object();
  if (!properties.is_object()) fail("JSON Schema 'properties' at {} must be an object", path);
  std::set<std::string> required;
  if (schema.contains("required")) {
    if (!schema["required"].is_array()) fail("JSON Schema 'required' at {} must be a list of names", path);
    for (const Json& name : schema["required"]) {
      if (!name.is_string()) fail("JSON Schema 'required' at {} must be a list of names", path);
      if (!properties.contains(name.get<std::string>()))
        fail("JSON Schema 'required' at {} names '{}', which is not in 'properties'", path, name.get<std::string>());
      required.insert(name.get<std::string>());
    }
  }
  const E ws = whitespace();
  if (properties.empty()) {
    const Json extra = schema.contains("additionalProperties") ? schema["additionalProperties"] : Json(true);
    if (extra == false) return E::sequence({lit("{"), ws, lit("}")});
    if (extra == true) return any_object();
    const E member = E::sequence({string(Json::object(), path), ws, lit(":"), ws, value(extra, path + ".additionalProperties")});
    return E::sequence({lit("{"), ws,
                        E::optional(E::sequence({member, E::repeat(E::sequence({ws, lit(","), ws, member}), 0, E::kUnbounded), ws})),
                        lit("}")});
  }
  // Properties in the order given; the optional ones may be left out. `after[k]`: properties
  // k.. each led by a comma; `first[k]`: the same, but the first one written has no comma.
  std::vector<E> members;
  std::vector<bool> is_required;
  for (const auto& [name, sub] : properties.items()) {
    members.push_back(E::sequence({string_literal(name), ws, lit(":"), ws, value(sub, fmt::format("{}.properties.{}", path, name))}));
    is_required.push_back(required.count(name) > 0);
  }
  const size_t n = members.size();
  std::vector<E> after(n + 1, E::empty()), first(n + 1, E::empty());
  for (size_t k = n; k-- > 0;) {
    const E led = E::sequence({ws, lit(","), ws, members[k]});
    const E rest = after[k + 1];
    const int32_t after_rule = b_.add("props_after", is_required[k] ? E::sequence({led, rest}) : E::sequence({E::optional(led), rest}));
    after[k] = E::rule(after_rule);
    const E with_this = E::sequence({members[k], rest});
    first[k] = E::rule(b_.add("props", is_required[k] ? with_this : E::choice({with_this, first[k + 1]})));
  }
  return E::sequence({lit("{"), ws, first[0], ws, lit("}")});
}

GrammarExpr JsonSchemaCompiler::array(const Json& schema, const std::string& path) {
  const Json items = schema.contains("items") ? schema["items"] : Json(true);
  const int min = schema.contains("minItems") ? non_negative(schema, "minItems", path) : 0;
  const int max = schema.contains("maxItems") ? non_negative(schema, "maxItems", path) : E::kUnbounded;
  if (max != E::kUnbounded && max < min) fail("JSON Schema at {}: maxItems {} is below minItems {}", path, max, min);
  const E ws = whitespace();
  if (max == 0) return E::sequence({lit("["), ws, lit("]")});
  const E item = E::rule(b_.add("item", value(items, path + ".items")));
  const E more = E::repeat(E::sequence({ws, lit(","), ws, item}), std::max(min - 1, 0), max == E::kUnbounded ? E::kUnbounded : max - 1);
  const E some = E::sequence({item, more, ws});
  return E::sequence({lit("["), ws, min > 0 ? some : E::optional(some), lit("]")});
}

GrammarExpr JsonSchemaCompiler::string(const Json& schema, const std::string& path) {
  const int min = schema.contains("minLength") ? non_negative(schema, "minLength", path) : 0;
  const int max = schema.contains("maxLength") ? non_negative(schema, "maxLength", path) : E::kUnbounded;
  if (max != E::kUnbounded && max < min) fail("JSON Schema at {}: maxLength {} is below minLength {}", path, max, min);
  if (min == 0 && max == E::kUnbounded)
    return cached("string", [this] { return E::sequence({lit("\""), E::repeat(string_char(), 0, E::kUnbounded), lit("\"")}); });
  return E::sequence({lit("\""), E::repeat(string_char(), min, max), lit("\"")});
}

namespace {

// The integer bounds of a schema, from minimum / exclusiveMinimum / maximum / exclusiveMaximum.
struct IntegerBounds {
  std::optional<int64_t> lo, hi;
};

IntegerBounds integer_bounds(const Json& schema, const std::string& path) {
  IntegerBounds b;
  auto number_of = [&](const char* key) {
    const Json& v = schema[key];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > 1e15)
      fail("JSON Schema '{}' at {} must be a number (|x| ≤ 1e15)", key, path);
    return v.get<double>();
  };
  auto raise_lo = [&](int64_t v) { b.lo = b.lo ? std::max(*b.lo, v) : v; };
  auto lower_hi = [&](int64_t v) { b.hi = b.hi ? std::min(*b.hi, v) : v; };
  if (schema.contains("minimum")) raise_lo(static_cast<int64_t>(std::ceil(number_of("minimum"))));
  if (schema.contains("exclusiveMinimum")) raise_lo(static_cast<int64_t>(std::floor(number_of("exclusiveMinimum"))) + 1);
  if (schema.contains("maximum")) lower_hi(static_cast<int64_t>(std::floor(number_of("maximum"))));
  if (schema.contains("exclusiveMaximum")) lower_hi(static_cast<int64_t>(std::ceil(number_of("exclusiveMaximum"))) - 1);
  return b;
}

}  // namespace

GrammarExpr JsonSchemaCompiler::integer(const Json& schema, const std::string& path) {
  const E digit = cls('0', '9');
  const E nonzero = cls('1', '9');
  const IntegerBounds b = integer_bounds(schema, path);
  if (!b.lo && !b.hi)
    return E::sequence({E::optional(lit("-")), E::choice({lit("0"), E::sequence({nonzero, E::repeat(digit, 0, 15)})})});
  if (b.lo && b.hi) {
    if (*b.hi < *b.lo) fail("JSON Schema at {}: no integer lies between minimum and maximum", path);
    if (*b.hi - *b.lo >= 1000) fail("JSON Schema at {}: integer ranges of more than 1000 values are not supported", path);
    std::vector<std::string> texts;
    for (int64_t v = *b.lo; v <= *b.hi; ++v) texts.push_back(std::to_string(v));
    return literal_set(texts);
  }
  if (b.lo && *b.lo >= 0 && *b.lo <= 9) {
    const E at_least = *b.lo == 0 ? lit("0") : cls(static_cast<uint8_t>('0' + *b.lo), '9');
    return E::choice({at_least, E::sequence({nonzero, E::repeat(digit, 1, 15)})});
  }
  fail("JSON Schema at {}: only a lower bound between 0 and 9, or both bounds, are supported for integers", path);
}

GrammarExpr JsonSchemaCompiler::number(const Json& schema, const std::string& path) {
  bool non_negative_only = false;
  for (const char* key : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
    if (!schema.contains(key)) continue;
    if (std::string_view(key) == "minimum" && schema[key].is_number() && schema[key].get<double>() == 0) {
      non_negative_only = true;
      continue;
    }
    fail("unsupported JSON Schema keyword '{}' at {}: numbers support only \"minimum\": 0", key, path);
  }
  const E digit = cls('0', '9');
  const E int_part = E::choice({lit("0"), E::sequence({cls('1', '9'), E::repeat(digit, 0, 15)})});
  const E frac = E::optional(E::sequence({lit("."), E::repeat(digit, 1, 16)}));
  const E exp = E::optional(E::sequence({E::bytes(ByteClass().add('e').add('E')), E::optional(E::bytes(ByteClass().add('-').add('+'))),
                                         E::repeat(digit, 1, 2)}));
  if (non_negative_only) return E::sequence({int_part, frac, exp});
  return cached("number", [&] { return E::sequence({E::optional(lit("-")), int_part, frac, exp}); });
}

GrammarExpr JsonSchemaCompiler::reference(const std::string& ref, const std::string& path) {
  if (ref.empty() || ref[0] != '#') fail("JSON Schema '$ref' at {} must point into this schema (\"#...\"), got '{}'", path, ref);
  return cached("ref:" + ref, [&] {
    const Json* target = &root_;
    std::string_view rest = std::string_view(ref).substr(1);
    while (!rest.empty()) {
      if (rest[0] != '/') fail("JSON Schema '$ref' at {}: '{}' is not a JSON Pointer", path, ref);
      rest.remove_prefix(1);
      const size_t slash = rest.find('/');
      const std::string token = pointer_token(rest.substr(0, slash));
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
      if (!target->is_object() || !target->contains(token)) fail("JSON Schema '$ref' at {}: '{}' does not resolve", path, ref);
      target = &(*target)[token];
    }
    return value(*target, ref);
  });
}

Grammar json_object_grammar(const std::string& prefix) {
  GrammarBuilder b;
  const Json empty = Json::object();
  JsonSchemaCompiler json(b, empty);
  const int32_t root = b.declare("root");
  b.define(root, E::sequence({lit(prefix), json.any_object()}));
  return b.build(root);
}

Grammar json_schema_grammar(const Json& schema, const std::string& prefix) {
  GrammarBuilder b;
  JsonSchemaCompiler json(b, schema);
  const int32_t root = b.declare("root");
  b.define(root, E::sequence({lit(prefix), json.value(schema, "$")}));
  return b.build(root);
}

}  // namespace tessera

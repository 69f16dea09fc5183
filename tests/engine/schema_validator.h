// A small JSON Schema validator for the subset json_schema_grammar supports, written apart from
// the grammar compiler so the random-walk tests check the grammar against an independent reading
// of the schema.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <string_view>

namespace tessera::testing {

using Json = nlohmann::ordered_json;

inline size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

inline const Json& resolve(const Json& root, const std::string& ref) {
  const Json* at = &root;
  size_t pos = 1;
  while (pos < ref.size()) {
    const size_t next = ref.find('/', pos + 1);
    const std::string raw = ref.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    std::string token;  // JSON Pointer escapes: ~1 is '/', ~0 is '~'
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size()) token += raw[++i] == '1' ? '/' : '~';
      else token += raw[i];
    }
    at = &at->at(token);
    pos = next == std::string::npos ? ref.size() : next;
  }
  return *at;
}

inline bool has_type(const Json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  return false;
}

// Whether `v` satisfies `schema` (root: for $ref).
inline bool validates(const Json& v, const Json& schema, const Json& root) {
  if (schema.is_boolean()) return schema.get<bool>();
  if (schema.contains("$ref")) return validates(v, resolve(root, schema["$ref"].get<std::string>()), root);
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema.contains(key)) continue;
    int hits = 0;
    for (const Json& option : schema[key]) hits += validates(v, option, root);
    if (hits == 0 || (std::string_view(key) == "oneOf" && hits != 1)) return false;
  }
  if (schema.contains("allOf"))
    for (const Json& s : schema["allOf"])
      if (!validates(v, s, root)) return false;
  if (schema.contains("const") && v != schema["const"]) return false;
  if (schema.contains("enum")) {
    bool found = false;
    for (const Json& e : schema["enum"]) found = found || e == v;
    if (!found) return false;
  }
  if (schema.contains("type")) {
    bool ok = false;
    const Json& t = schema["type"];
    if (t.is_string()) ok = has_type(v, t.get<std::string>());
    else for (const Json& one : t) ok = ok || has_type(v, one.get<std::string>());
    if (schema.value("nullable", false)) ok = ok || v.is_null();
    if (!ok) return false;
  }
  if (v.is_object()) {
    const Json props = schema.value("properties", Json::object());
    for (const Json& r : schema.value("required", Json::array()))
      if (!v.contains(r.get<std::string>())) return false;
    for (const auto& [k, value] : v.items()) {
      if (props.contains(k)) {
        if (!validates(value, props[k], root)) return false;
      } else if (schema.contains("additionalProperties")) {
        if (!validates(value, schema["additionalProperties"], root)) return false;
      }
    }
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) return false;
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) return false;
    if (schema.contains("items"))
      for (const Json& item : v)
        if (!validates(item, schema["items"], root)) return false;
  }
  if (v.is_string()) {
    const size_t n = code_points(v.get<std::string>());
    if (schema.contains("minLength") && n < schema["minLength"].get<size_t>()) return false;
    if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) return false;
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    if (schema.contains("minimum") && x < schema["minimum"].get<double>()) return false;
    if (schema.contains("maximum") && x > schema["maximum"].get<double>()) return false;
    if (schema.contains("exclusiveMinimum") && x <= schema["exclusiveMinimum"].get<double>()) return false;
    if (schema.contains("exclusiveMaximum") && x >= schema["exclusiveMaximum"].get<double>()) return false;
  }
  return true;
}

}  // namespace tessera::testing

// json.dumps for template values (see jinja_json.h); layout follows CPython's json/encoder.py.
#include "chat/jinja/json.h"

#include "chat/jinja/py_text.h"

#include <algorithm>
#include <cmath>

namespace tessera::jinja {

namespace {

void encode_string(std::string& out, const std::string& s, bool ensure_ascii) {
  static const char* kHex = "0123456789abcdef";
  auto u4 = [&](char32_t c) {
    out += "\\u";
    for (int i = 3; i >= 0; --i) out += kHex[(c >> (4 * i)) & 15];
  };
  out += '"';
  for (char32_t c : utf8_decode(s)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          u4(c);
        } else if (ensure_ascii && c >= 0x7F) {
          if (c >= 0x10000) {  // surrogate pair
            char32_t v = c - 0x10000;
            u4(0xD800 | (v >> 10));
            u4(0xDC00 | (v & 0x3FF));
          } else {
            u4(c);
          }
        } else {
          append_utf8(out, c);
        }
    }
  }
  out += '"';
}

std::string float_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return py_float_repr(d);
}

[[noreturn]] void not_serializable(const Value& v) {
  throw_type_error("Object of type " + type_name(v) + " is not JSON serializable");
}

class Encoder {
 public:
  explicit Encoder(const JsonDumpOptions& o) : opt_(o) {
    item_sep_ = o.item_separator.value_or(o.indent ? "," : ", ");
    key_sep_ = o.key_separator.value_or(": ");
  }

  void encode(std::string& out, const Value& v, int level) {
    using K = Value::Kind;
    switch (v.kind()) {
      case K::kNone: out += "null"; return;
      case K::kBool: out += v.as_bool() ? "true" : "false"; return;
      case K::kInt: out += std::to_string(v.as_int()); return;
      case K::kFloat: out += float_text(v.as_float()); return;
      case K::kString: encode_string(out, v.as_string(), opt_.ensure_ascii); return;
      case K::kList:
        if (v.flavor() != ListFlavor::kList && v.flavor() != ListFlavor::kTuple) not_serializable(v);
        encode_list(out, v.as_list(), level);
        return;
      case K::kDict: encode_dict(out, v.as_dict(), level); return;
      default: not_serializable(v);
    }
  }

 private:
  const JsonDumpOptions& opt_;
  std::string item_sep_, key_sep_;

  std::string newline_indent(int level) const {
    std::string s = "\n";
    for (int i = 0; i < level; ++i) s += *opt_.indent;
    return s;
  }

  void encode_list(std::string& out, const ValueList& items, int level) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    std::string sep = item_sep_;
    if (opt_.indent) {
      std::string nl = newline_indent(level + 1);
      out += nl;
      sep += nl;
    }
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += sep;
      encode(out, items[i], level + 1);
    }
    if (opt_.indent) out += newline_indent(level);
    out += ']';
  }

  static std::string key_text(const Value& k) {
    if (k.is_string()) return k.as_string();
    if (k.is_float()) return float_text(k.as_float());
    if (k.is_bool()) return k.as_bool() ? "true" : "false";
    if (k.is_int()) return std::to_string(k.as_int());
    if (k.is_none()) return "null";
    throw_type_error("keys must be str, int, float, bool or None, not " + type_name(k));
  }

  void encode_dict(std::string& out, const Dict& d, int level) {
    if (d.size() == 0) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<Value, Value>*> items;
    for (const auto& kv : d.items()) items.push_back(&kv);
    if (opt_.sort_keys)
      std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return py_less(a->first, b->first); });
    out += '{';
    std::string sep = item_sep_;
    if (opt_.indent) {
      std::string nl = newline_indent(level + 1);
      out += nl;
      sep += nl;
    }
    bool first = true;
    for (const auto* kv : items) {
      if (!first) out += sep;
      first = false;
      encode_string(out, key_text(kv->first), opt_.ensure_ascii);
      out += key_sep_;
      encode(out, kv->second, level + 1);
    }
    if (opt_.indent) out += newline_indent(level);
    out += '}';
  }
};

}  // namespace

std::string json_dumps(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  Encoder(options).encode(out, value, 0);
  return out;
}

}  // namespace tessera::jinja

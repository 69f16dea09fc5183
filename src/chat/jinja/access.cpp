// Attribute/item access and the builtin methods of str, dict, list and the loop object
// (see jinja_access.h).
#include "chat/jinja/access.h"

#include "chat/jinja/ops.h"
#include "chat/jinja/py_text.h"

#include <algorithm>
#include <optional>
#include <set>

namespace tessera::jinja {

namespace {

Value method(const std::string& name, std::function<Value(CallArgs&)> fn) {
  auto c = std::make_shared<Callable>();
  c->name = name;
  c->call = std::move(fn);
  return Value::callable(std::move(c));
}

Value unsupported_method(const Value& obj, const std::string& name) {
  std::string type = type_name(obj);
  return method(name, [type, name](CallArgs&) -> Value {
    throw PyError("unsupported: Python method " + type + "." + name + "() in a chat template");
  });
}

Value unsafe(const Value& obj, const std::string& name) {
  return Value::undefined("SecurityError: access to attribute " + py_repr_string(name) + " of " +
                          py_repr_string(type_name(obj)) + " object is unsafe.");
}

std::optional<int64_t> opt_int(const Value& v, const std::string& fn) {
  if (v.is_none()) return std::nullopt;
  if (v.is_int() || v.is_bool()) return v.as_int();
  throw_type_error("slice indices must be integers or None or have an __index__ method (" + fn + ")");
}

const std::string& str_arg(const Value& v, const std::string& fn) {
  if (!v.is_string()) throw_type_error(fn + "() argument must be str, not " + type_name(v));
  return v.as_string();
}

std::optional<std::string> opt_str_arg(const Value& v, const std::string& fn) {
  if (v.is_none()) return std::nullopt;
  return str_arg(v, fn);
}

// Python slice bounds normalisation (PySlice_AdjustIndices) -> the selected indices.
std::vector<size_t> slice_indices(int64_t len, std::optional<int64_t> start, std::optional<int64_t> stop,
                                  int64_t step) {
  auto adjust = [&](std::optional<int64_t> v, bool is_start) -> int64_t {
    if (!v) {
      if (step > 0) return is_start ? 0 : len;
      return is_start ? len - 1 : -1;
    }
    int64_t x = *v;
    if (x < 0) {
      x += len;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= len) {
      x = step < 0 ? len - 1 : len;
    }
    return x;
  };
  int64_t s = adjust(start, true), e = adjust(stop, false);
  std::vector<size_t> out;
  if (step > 0)
    for (int64_t i = s; i < e; i += step) out.push_back(static_cast<size_t>(i));
  else
    for (int64_t i = s; i > e; i += step) out.push_back(static_cast<size_t>(i));
  return out;
}

// text[start:end] by code points, for the optional start/end of str methods.
std::string str_window(const std::string& s, const Value& start, const Value& end, const std::string& fn) {
  auto a = opt_int(start, fn), b = opt_int(end, fn);
  if (!a && !b) return s;
  std::u32string cps = utf8_decode(s);
  std::u32string out;
  for (size_t i : slice_indices(static_cast<int64_t>(cps.size()), a, b, 1)) out.push_back(cps[i]);
  return utf8_encode(out);
}

std::string justify(const std::string& s, int64_t width, const Value& fill_v, char how, const std::string& fn) {
  std::string fill = " ";
  if (!fill_v.is_none()) {
    fill = str_arg(fill_v, fn);
    if (utf8_length(fill) != 1) throw_type_error("The fill character must be exactly one character long");
  }
  auto len = static_cast<int64_t>(utf8_length(s));
  if (width <= len) return s;
  int64_t marg = width - len;
  int64_t left = how == '<' ? 0 : how == '>' ? marg : marg / 2 + (marg & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < marg - left; ++i) out += fill;
  return out;
}

Value string_list(const std::vector<std::string>& parts) {
  ValueList items;
  for (const auto& p : parts) items.push_back(Value::string(p));
  return Value::list(std::move(items));
}

int64_t int_arg(const Value& v, const std::string& fn) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  throw_type_error("'" + type_name(v) + "' object cannot be interpreted as an integer (" + fn + ")");
}

Value call_str_method(const Value& self, const std::string& m, const CallArgs& args) {
  const std::string& s = self.as_string();
  auto none = Value::none();
  if (m == "startswith" || m == "endswith") {
    auto a = bind_args(m, args, {required("prefix"), optional("start", none), optional("end", none)});
    std::string text = str_window(s, a[1], a[2], m);
    auto test = [&](const Value& p) {
      if (!p.is_string())
        throw_type_error(m + " first arg must be str or a tuple of str, not " + type_name(p));
      const std::string& x = p.as_string();
      if (x.size() > text.size()) return false;
      return m == "startswith" ? text.compare(0, x.size(), x) == 0
                               : text.compare(text.size() - x.size(), x.size(), x) == 0;
    };
    if (a[0].is_list() && a[0].flavor() == ListFlavor::kTuple) {
      for (const auto& p : a[0].as_list())
        if (test(p)) return Value::boolean(true);
      return Value::boolean(false);
    }
    return Value::boolean(test(a[0]));
  }
  if (m == "split" || m == "rsplit") {
    auto a = bind_args(m, args, {optional("sep", none), optional("maxsplit", Value::integer(-1))});
    auto sep = opt_str_arg(a[0], m);
    if (sep && sep->empty()) throw_value_error("empty separator");
    int64_t maxsplit = int_arg(a[1], m);
    return string_list(m == "split" ? py_split(s, sep, maxsplit) : py_rsplit(s, sep, maxsplit));
  }
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    auto a = bind_args(m, args, {optional("chars", none)});
    return Value::string(py_strip(s, opt_str_arg(a[0], m), m != "rstrip", m != "lstrip"), self.is_markup());
  }
  if (m == "upper") return bind_args(m, args, {}), Value::string(py_upper(s), self.is_markup());
  if (m == "lower" || m == "casefold") return bind_args(m, args, {}), Value::string(py_lower(s), self.is_markup());
  if (m == "title") return bind_args(m, args, {}), Value::string(py_title(s), self.is_markup());
  if (m == "capitalize") return bind_args(m, args, {}), Value::string(py_capitalize(s), self.is_markup());
  if (m == "swapcase") return bind_args(m, args, {}), Value::string(py_swapcase(s), self.is_markup());
  if (m == "replace") {
    auto a = bind_args(m, args, {required("old"), required("new"), optional("count", Value::integer(-1))});
    return Value::string(py_replace(s, str_arg(a[0], m), str_arg(a[1], m), int_arg(a[2], m)));
  }
  if (m == "find" || m == "rfind" || m == "index" || m == "rindex") {
    auto a = bind_args(m, args, {required("sub"), optional("start", none), optional("end", none)});
    int64_t r = py_find(s, str_arg(a[0], m), opt_int(a[1], m), opt_int(a[2], m), m[0] == 'r');
    if (r < 0 && (m == "index" || m == "rindex")) throw_value_error("substring not found");
    return Value::integer(r);
  }
  if (m == "count") {
    auto a = bind_args(m, args, {required("sub"), optional("start", none), optional("end", none)});
    return Value::integer(py_count(str_window(s, a[1], a[2], m), str_arg(a[0], m)));
  }
  if (m == "join") {
    auto a = bind_args(m, args, {required("iterable")});
    std::string out;
    size_t i = 0;
    for (const auto& item : iterate(a[0])) {
      if (!item.is_string())
        throw_type_error("sequence item " + std::to_string(i) + ": expected str instance, " + type_name(item) + " found");
      if (i++) out += s;
      out += item.as_string();
    }
    return Value::string(std::move(out));
  }
  if (m == "format") return Value::string(str_format(s, args));
  if (m == "splitlines") {
    auto a = bind_args(m, args, {optional("keepends", Value::boolean(false))});
    return string_list(py_splitlines(s, truthy(a[0])));
  }
  if (m == "partition" || m == "rpartition") {
    auto a = bind_args(m, args, {required("sep")});
    const std::string& sep = str_arg(a[0], m);
    if (sep.empty()) throw_value_error("empty separator");
    size_t hit = m == "partition" ? s.find(sep) : s.rfind(sep);
    if (hit == std::string::npos) {
      if (m == "partition") return Value::tuple({Value::string(s), Value::string(""), Value::string("")});
      return Value::tuple({Value::string(""), Value::string(""), Value::string(s)});
    }
    return Value::tuple({Value::string(s.substr(0, hit)), Value::string(sep), Value::string(s.substr(hit + sep.size()))});
  }
  if (m == "removeprefix" || m == "removesuffix") {
    auto a = bind_args(m, args, {required("affix")});
    const std::string& x = str_arg(a[0], m);
    if (m == "removeprefix" && s.compare(0, x.size(), x) == 0) return Value::string(s.substr(x.size()));
    if (m == "removesuffix" && !x.empty() && s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0)
      return Value::string(s.substr(0, s.size() - x.size()));
    return Value::string(s);
  }
  if (m == "zfill") {
    auto a = bind_args(m, args, {required("width")});
    int64_t width = int_arg(a[0], m);
    auto len = static_cast<int64_t>(utf8_length(s));
    if (width <= len) return Value::string(s);
    std::string zeros(static_cast<size_t>(width - len), '0');
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) return Value::string(s.substr(0, 1) + zeros + s.substr(1));
    return Value::string(zeros + s);
  }
  if (m == "center" || m == "ljust" || m == "rjust") {
    auto a = bind_args(m, args, {required("width"), optional("fillchar", none)});
    char how = m == "center" ? '^' : m == "ljust" ? '<' : '>';
    return Value::string(justify(s, int_arg(a[0], m), a[1], how, m));
  }
  if (m.rfind("is", 0) == 0) {
    bind_args(m, args, {});
    std::u32string cps = utf8_decode(s);
    auto all = [&](auto pred) {
      if (cps.empty()) return false;
      for (char32_t c : cps)
        if (!pred(c)) return false;
      return true;
    };
    if (m == "isdigit" || m == "isdecimal") return Value::boolean(all(py_isdigit));
    if (m == "isnumeric") return Value::boolean(all([](char32_t c) { return py_isalnum(c) && !py_isalpha(c); }));
    if (m == "isalpha") return Value::boolean(all(py_isalpha));
    if (m == "isalnum") return Value::boolean(all(py_isalnum));
    if (m == "isspace") return Value::boolean(all(py_isspace));
    if (m == "isascii") {
      for (char32_t c : cps)
        if (c >= 0x80) return Value::boolean(false);
      return Value::boolean(true);
    }
    if (m == "isupper" || m == "islower") {
      bool cased = false;
      for (char32_t c : cps) {
        if (m == "isupper" ? py_islower(c) : py_isupper(c)) return Value::boolean(false);
        cased = cased || py_is_cased(c);
      }
      return Value::boolean(cased);
    }
  }
  throw PyError("unsupported: Python method str." + m + "() in a chat template");
}

const std::set<std::string>& str_attributes() {
  static const std::set<std::string> kAttrs = {
      "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find",
      "format", "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit",
      "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper",
      "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix",
      "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
      "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper",
      "zfill"};
  return kAttrs;
}

const std::set<std::string>& str_unsupported() {
  static const std::set<std::string> kNames = {"encode", "expandtabs", "format_map", "isidentifier",
                                               "isprintable", "istitle", "maketrans", "translate"};
  return kNames;
}

Value loop_attribute(const Value& loop_value, const std::string& name, bool* found) {
  *found = true;
  LoopState& s = loop_value.as_loop();
  auto length = static_cast<int64_t>(s.items.size());
  if (name == "index") return Value::integer(s.index0 + 1);
  if (name == "index0") return Value::integer(s.index0);
  if (name == "length") return Value::integer(length);
  if (name == "revindex") return Value::integer(length - s.index0);
  if (name == "revindex0") return Value::integer(length - s.index0 - 1);
  if (name == "first") return Value::boolean(s.index0 == 0);
  if (name == "last") return Value::boolean(s.index0 + 1 == length);
  if (name == "depth") return Value::integer(s.depth0 + 1);
  if (name == "depth0") return Value::integer(s.depth0);
  if (name == "previtem") {
    if (s.index0 == 0) return undefined_hint("there is no previous item");
    return s.items[static_cast<size_t>(s.index0 - 1)];
  }
  if (name == "nextitem") {
    if (s.index0 + 1 >= length) return undefined_hint("there is no next item");
    return s.items[static_cast<size_t>(s.index0 + 1)];
  }
  if (name == "cycle") {
    return method("cycle", [state = loop_value.loop_ptr()](CallArgs& a) -> Value {
      if (!a.keywords.empty()) throw_type_error("cycle() got an unexpected keyword argument");
      if (a.positional.empty()) throw_type_error("no items for cycling given");
      return a.positional[static_cast<size_t>(state->index0) % a.positional.size()];
    });
  }
  if (name == "changed") {
    return method("changed", [state = loop_value.loop_ptr()](CallArgs& a) -> Value {
      Value args = Value::tuple(a.positional);
      if (!state->changed_called || !py_equal(state->last_changed, args)) {
        state->changed_called = true;
        state->last_changed = args;
        return Value::boolean(true);
      }
      return Value::boolean(false);
    });
  }
  *found = false;
  return Value();
}

// The Python attribute `name` of obj, or nullopt when Python has none (then x.name falls back
// to x['name']).
std::optional<Value> python_attribute(const Value& obj, const std::string& name) {
  using K = Value::Kind;
  if (name.size() > 4 && name.rfind("__", 0) == 0 && name.compare(name.size() - 2, 2, "__") == 0)
    return unsafe(obj, name);  // dunders exist on every Python object and are never safe
  switch (obj.kind()) {
    case K::kString:
      if (str_unsupported().count(name)) return unsupported_method(obj, name);
      if (str_attributes().count(name))
        return method(name, [obj, name](CallArgs& a) { return call_str_method(obj, name, a); });
      return std::nullopt;
    case K::kDict: {
      if (name == "keys" || name == "values" || name == "items") {
        return method(name, [obj, name](CallArgs& a) {
          bind_args(name, a, {});
          ValueList out;
          for (const auto& [k, v] : obj.as_dict().items())
            out.push_back(name == "keys" ? k : name == "values" ? v : Value::tuple({k, v}));
          ListFlavor f = name == "keys" ? ListFlavor::kDictKeys
                         : name == "values" ? ListFlavor::kDictValues : ListFlavor::kDictItems;
          return Value::list(std::move(out), f);
        });
      }
      if (name == "get") {
        return method(name, [obj](CallArgs& a) {
          auto b = bind_args("get", a, {required("key"), optional("default", Value::none())});
          check_hashable(b[0]);
          const Value* v = obj.as_dict().find(b[0]);
          return v ? *v : b[1];
        });
      }
      if (name == "copy") return method(name, [obj](CallArgs& a) { return bind_args("copy", a, {}), obj; });
      if (name == "clear" || name == "pop" || name == "popitem" || name == "setdefault" || name == "update")
        return unsafe(obj, name);
      if (name == "fromkeys") return unsupported_method(obj, name);
      return std::nullopt;
    }
    case K::kList: {
      bool list_like = obj.flavor() == ListFlavor::kList || obj.flavor() == ListFlavor::kTuple ||
                       obj.flavor() == ListFlavor::kRange;
      if (!list_like) return std::nullopt;
      if (name == "index" || name == "count") {
        return method(name, [obj, name](CallArgs& a) {
          const ValueList& items = obj.as_list();
          if (name == "count") {
            auto b = bind_args(name, a, {required("value")});
            int64_t n = 0;
            for (const auto& x : items) n += py_equal(x, b[0]) ? 1 : 0;
            return Value::integer(n);
          }
          auto b = bind_args(name, a, {required("value"), optional("start", Value::none()), optional("stop", Value::none())});
          for (size_t i : slice_indices(static_cast<int64_t>(items.size()), opt_int(b[1], name), opt_int(b[2], name), 1))
            if (py_equal(items[i], b[0])) return Value::integer(static_cast<int64_t>(i));
          throw_value_error(py_repr(b[0]) + " is not in " + type_name(obj));
        });
      }
      if (obj.flavor() == ListFlavor::kList) {
        if (name == "copy") return method(name, [obj](CallArgs& a) { return bind_args("copy", a, {}), obj; });
        static const std::set<std::string> kMutators = {"append", "clear", "extend", "insert",
                                                        "pop", "remove", "reverse", "sort"};
        if (kMutators.count(name)) return unsafe(obj, name);
      }
      if (obj.flavor() == ListFlavor::kRange && (name == "start" || name == "stop" || name == "step"))
        return unsupported_method(obj, name);
      return std::nullopt;
    }
    case K::kNamespace: {
      const Value* v = obj.as_namespace().attrs.find(std::string_view(name));
      if (v) return *v;
      return std::nullopt;
    }
    case K::kLoop: {
      bool found = false;
      Value v = loop_attribute(obj, name, &found);
      if (found) return v;
      return std::nullopt;
    }
    case K::kCallable:
      if (name == "name" && obj.as_callable().is_macro) return Value::string(obj.as_callable().name);
      if (obj.as_callable().is_macro &&
          (name == "arguments" || name == "defaults" || name == "catch_kwargs" ||
           name == "catch_varargs" || name == "caller"))
        return unsupported_method(obj, name);
      return std::nullopt;
    case K::kBool:
    case K::kInt:
    case K::kFloat: {
      static const std::set<std::string> kNumberAttrs = {
          "real", "imag", "numerator", "denominator", "conjugate", "bit_length", "bit_count",
          "to_bytes", "from_bytes", "as_integer_ratio", "is_integer", "hex", "fromhex"};
      if (kNumberAttrs.count(name))
        throw PyError("unsupported: attribute '" + name + "' of a number in a chat template");
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

// obj[key] without the attribute fallback; nullopt where Python raises KeyError/IndexError/TypeError.
std::optional<Value> python_item(const Value& obj, const Value& key) {
  using K = Value::Kind;
  switch (obj.kind()) {
    case K::kDict: {
      if (key.is_dict() || (key.is_list() && key.flavor() != ListFlavor::kTuple && key.flavor() != ListFlavor::kRange))
        return std::nullopt;  // unhashable -> TypeError -> Undefined
      const Value* v = obj.as_dict().find(key);
      if (v) return *v;
      return std::nullopt;
    }
    case K::kList:
    case K::kString: {
      if (obj.is_list() && obj.flavor() != ListFlavor::kList && obj.flavor() != ListFlavor::kTuple &&
          obj.flavor() != ListFlavor::kRange)
        return std::nullopt;  // dict views are not subscriptable
      if (!key.is_int() && !key.is_bool()) return std::nullopt;
      int64_t i = key.as_int();
      if (obj.is_list()) {
        auto n = static_cast<int64_t>(obj.as_list().size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return std::nullopt;
        return obj.as_list()[static_cast<size_t>(i)];
      }
      std::u32string cps = utf8_decode(obj.as_string());
      auto n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return std::nullopt;
      std::string ch;
      append_utf8(ch, cps[static_cast<size_t>(i)]);
      return Value::string(std::move(ch), obj.is_markup());
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<Value> get_python_attribute(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) throw_undefined(obj);
  return python_attribute(obj, name);
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) throw_undefined(obj);
  if (auto v = python_attribute(obj, name)) return *v;
  if (auto v = python_item(obj, Value::string(name))) return *v;
  return undefined_attribute(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) throw_undefined(obj);
  if (auto v = python_item(obj, key)) return *v;
  if (key.is_string())
    if (auto v = python_attribute(obj, key.as_string())) return *v;
  return undefined_element(obj, key);
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) throw_undefined(obj);
  auto is_index = [](const Value& v) { return v.is_none() || v.is_int() || v.is_bool(); };
  bool sliceable = obj.is_string() ||
                   (obj.is_list() && (obj.flavor() == ListFlavor::kList || obj.flavor() == ListFlavor::kTuple ||
                                      obj.flavor() == ListFlavor::kRange));
  // Python raises TypeError for bad bounds or unsliceable objects; Jinja turns it into Undefined.
  if (!sliceable || !is_index(start) || !is_index(stop) || !is_index(step))
    return Value::undefined("UndefinedError: " + object_type_repr(obj) + " has no element slice(" +
                            py_repr(start) + ", " + py_repr(stop) + ", " + py_repr(step) + ")");
  int64_t st = step.is_none() ? 1 : step.as_int();
  if (st == 0) throw_value_error("slice step cannot be zero");
  auto bound = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_none()) return std::nullopt;
    return v.as_int();
  };
  if (obj.is_string()) {
    std::u32string cps = utf8_decode(obj.as_string());
    std::u32string out;
    for (size_t i : slice_indices(static_cast<int64_t>(cps.size()), bound(start), bound(stop), st)) out.push_back(cps[i]);
    return Value::string(utf8_encode(out), obj.is_markup());
  }
  const ValueList& items = obj.as_list();
  ValueList out;
  for (size_t i : slice_indices(static_cast<int64_t>(items.size()), bound(start), bound(stop), st))
    out.push_back(items[i]);
  if (obj.flavor() == ListFlavor::kRange)
    throw PyError("unsupported: slicing a range() object in a chat template");
  return Value::list(std::move(out), obj.flavor());
}

}  // namespace tessera::jinja

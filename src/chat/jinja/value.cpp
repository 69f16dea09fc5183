// Python object model for the Jinja2 subset (see jinja_value.h).
#include "chat/jinja/value.h"

#include <fmt/format.h>

#include "chat/jinja/py_text.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tessera::jinja {

void throw_type_error(const std::string& message) { throw PyError("TypeError: " + message); }
void throw_value_error(const std::string& message) { throw PyError("ValueError: " + message); }

// ---- Dict ---------------------------------------------------------------------------------

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : items_)
    if (py_equal(k, key)) return &v;
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items_)
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

size_t Dict::size() const { return items_.size(); }

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : items_) {
    if (py_equal(k, key)) {  // Python keeps the first key object and position
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::move(key), std::move(value));
}

void Dict::append_new(Value key, Value value) { items_.emplace_back(std::move(key), std::move(value)); }

// ---- construction -------------------------------------------------------------------------

Value Value::undefined(std::string message) {
  Value v;
  v.str_ = std::make_shared<const std::string>(std::move(message));
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  v.int_ = b ? 1 : 0;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.int_ = i;
  return v;
}
Value Value::number(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.float_ = d;
  return v;
}
Value Value::string(std::string s, bool markup) {
  Value v;
  v.kind_ = Kind::kString;
  v.markup_ = markup;
  v.str_ = std::make_shared<const std::string>(std::move(s));
  return v;
}
Value Value::list(ValueList items, ListFlavor flavor) {
  Value v;
  v.kind_ = Kind::kList;
  v.flavor_ = flavor;
  v.list_ = std::make_shared<const ValueList>(std::move(items));
  return v;
}
Value Value::range(int64_t start, int64_t stop, int64_t step) {
  ValueList items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.push_back(integer(i));
  Value v = list(std::move(items), ListFlavor::kRange);
  std::string repr = "range(" + std::to_string(start) + ", " + std::to_string(stop);
  if (step != 1) repr += ", " + std::to_string(step);
  v.str_ = std::make_shared<const std::string>(repr + ")");
  return v;
}
Value Value::dict(Dict d) {
  Value v;
  v.kind_ = Kind::kDict;
  v.dict_ = std::make_shared<const Dict>(std::move(d));
  return v;
}
Value Value::namespace_object(std::shared_ptr<Namespace> ns) {
  Value v;
  v.kind_ = Kind::kNamespace;
  v.ns_ = std::move(ns);
  return v;
}
Value Value::callable(std::shared_ptr<Callable> fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.fn_ = std::move(fn);
  return v;
}
Value Value::iterator(ValueList items, std::string py_type) {
  Value v;
  v.kind_ = Kind::kIterator;
  v.iter_ = std::make_shared<Iterator>(Iterator{std::move(items), 0, std::move(py_type)});
  return v;
}
Value Value::loop(std::shared_ptr<LoopState> state) {
  Value v;
  v.kind_ = Kind::kLoop;
  v.loop_ = std::move(state);
  return v;
}

namespace {
constexpr int kMaxJsonDepth = 256;  // deeper request JSON would only risk the C++ stack

Value value_from_json(const nlohmann::ordered_json& json, int depth);
}  // namespace

Value Value::from_json(const nlohmann::ordered_json& json) { return value_from_json(json, 0); }

namespace {
Value value_from_json(const nlohmann::ordered_json& json, int depth) {
  using J = nlohmann::ordered_json::value_t;
  using V = Value;
  if (depth > kMaxJsonDepth)
    throw PyError("ValueError: JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  switch (json.type()) {
    case J::null: return V::none();
    case J::boolean: return V::boolean(json.get<bool>());
    case J::number_integer: return V::integer(json.get<int64_t>());
    case J::number_unsigned: {
      auto u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw PyError("OverflowError: integer " + std::to_string(u) +
                      " is too large for the chat template engine (64-bit ints only)");
      return V::integer(static_cast<int64_t>(u));
    }
    case J::number_float: return V::number(json.get<double>());
    case J::string: return V::string(json.get<std::string>());
    case J::array: {
      ValueList items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(value_from_json(item, depth + 1));
      return V::list(std::move(items));
    }
    case J::object: {
      Dict d;
      for (const auto& [key, item] : json.items()) d.append_new(V::string(key), value_from_json(item, depth + 1));
      return V::dict(std::move(d));
    }
    default:
      throw PyError("TypeError: binary JSON values are not supported in a chat template context");
  }
}
}  // namespace

double Value::as_float() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }

const void* Value::identity() const {
  if (str_) return str_.get();
  if (list_) return list_.get();
  if (dict_) return dict_.get();
  if (ns_) return ns_.get();
  if (fn_) return fn_.get();
  if (iter_) return iter_.get();
  if (loop_) return loop_.get();
  return nullptr;
}

// ---- names --------------------------------------------------------------------------------

std::string type_name(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined: return "Undefined";
    case K::kNone: return "NoneType";
    case K::kBool: return "bool";
    case K::kInt: return "int";
    case K::kFloat: return "float";
    case K::kString: return v.is_markup() ? "Markup" : "str";
    case K::kList:
      switch (v.flavor()) {
        case ListFlavor::kList: return "list";
        case ListFlavor::kTuple: return "tuple";
        case ListFlavor::kRange: return "range";
        case ListFlavor::kDictKeys: return "dict_keys";
        case ListFlavor::kDictValues: return "dict_values";
        case ListFlavor::kDictItems: return "dict_items";
      }
      return "list";
    case K::kDict: return "dict";
    case K::kNamespace: return "Namespace";
    case K::kCallable: return v.as_callable().is_macro ? "Macro" : "builtin_function_or_method";
    case K::kIterator: return v.as_iterator().py_type;
    case K::kLoop: return "LoopContext";
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kNone: return "None";
    case K::kUndefined: return "jinja2.runtime.Undefined object";
    case K::kNamespace: return "jinja2.utils.Namespace object";
    case K::kLoop: return "jinja2.runtime.LoopContext object";
    case K::kCallable:
      if (v.as_callable().is_macro) return "jinja2.runtime.Macro object";
      return "builtin_function_or_method object";
    default:
      if (v.is_markup()) return "markupsafe.Markup object";
      return type_name(v) + " object";
  }
}

// ---- undefined and argument binding ---------------------------------------------------------

Value undefined_name(const std::string& name) {
  return Value::undefined("UndefinedError: " + py_repr_string(name) + " is undefined");
}
Value undefined_attribute(const Value& obj, const std::string& name) {
  return Value::undefined("UndefinedError: " + py_repr_string(object_type_repr(obj)) +
                          " has no attribute " + py_repr_string(name));
}
Value undefined_element(const Value& obj, const Value& key) {
  if (key.is_string()) return undefined_attribute(obj, key.as_string());
  return Value::undefined("UndefinedError: " + object_type_repr(obj) + " has no element " + py_repr(key));
}
Value undefined_hint(const std::string& hint) { return Value::undefined("UndefinedError: " + hint); }
void throw_undefined(const Value& undefined) { throw PyError(undefined.as_string()); }

ValueList bind_args(std::string_view function, const CallArgs& args, const std::vector<Param>& params) {
  std::string fn(function);
  if (args.positional.size() > params.size())
    throw_type_error(fn + "() takes at most " + std::to_string(params.size()) + " argument(s) (" +
                     std::to_string(args.positional.size()) + " given)");
  ValueList out(params.size());
  std::vector<bool> set(params.size(), false);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    out[i] = args.positional[i];
    set[i] = true;
  }
  for (const auto& [name, value] : args.keywords) {
    size_t i = 0;
    while (i < params.size() && params[i].name != name) ++i;
    if (i == params.size()) throw_type_error(fmt::format("{}() got an unexpected keyword argument '{}'", fn, name));
    if (set[i]) throw_type_error(fmt::format("{}() got multiple values for argument '{}'", fn, name));
    out[i] = value;
    set[i] = true;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (set[i]) continue;
    if (params[i].required)
      throw_type_error(fn + "() missing required argument '" + std::string(params[i].name) + "'");
    out[i] = params[i].default_value;
  }
  return out;
}

// ---- truthiness, printing -------------------------------------------------------------------

bool truthy(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined:
    case K::kNone: return false;
    case K::kBool:
    case K::kInt: return v.as_int() != 0;
    case K::kFloat: return v.as_float() != 0.0;
    case K::kString: return !v.as_string().empty();
    case K::kList: return !v.as_list().empty();
    case K::kDict: return v.as_dict().size() != 0;
    case K::kLoop: return !v.as_loop().items.empty();  // LoopContext has __len__
    default: return true;  // namespaces, callables and iterators are always truthy
  }
}

namespace {

// Python's reprs print "[...]" / "{...}" for a container already being printed; a namespace
// can hold itself (`{% set ns.me = ns %}`), so cycles are possible.
thread_local std::vector<const void*> t_repr_stack;

struct ReprGuard {
  bool recursive;
  explicit ReprGuard(const void* p) {
    recursive = std::find(t_repr_stack.begin(), t_repr_stack.end(), p) != t_repr_stack.end();
    if (!recursive) t_repr_stack.push_back(p);
  }
  ~ReprGuard() {
    if (!recursive) t_repr_stack.pop_back();
  }
};

std::string join_reprs(const ValueList& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += py_repr(items[i]);
  }
  return out;
}

std::string dict_repr(const Dict& d) {
  ReprGuard guard(&d);
  if (guard.recursive) return "{...}";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : d.items()) {
    if (!first) out += ", ";
    first = false;
    out += py_repr(k) + ": " + py_repr(v);
  }
  return out + "}";
}

[[noreturn]] void unprintable(const Value& v) {
  throw PyError("unsupported: printing a " + type_name(v) +
                " object (Python's text for it contains a memory address)");
}

}  // namespace

std::string py_str(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined: return "";
    case K::kString: return v.as_string();
    default: return py_repr(v);
  }
}

std::string py_repr(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined: return "Undefined";
    case K::kNone: return "None";
    case K::kBool: return v.as_bool() ? "True" : "False";
    case K::kInt: return std::to_string(v.as_int());
    case K::kFloat: return py_float_repr(v.as_float());
    case K::kString:
      if (v.is_markup()) return "Markup(" + py_repr_string(v.as_string()) + ")";
      return py_repr_string(v.as_string());
    case K::kList: {
      ReprGuard guard(&v.as_list());
      if (guard.recursive) return v.flavor() == ListFlavor::kTuple ? "(...)" : "[...]";
      switch (v.flavor()) {
        case ListFlavor::kList: return "[" + join_reprs(v.as_list()) + "]";
        case ListFlavor::kTuple:
          if (v.as_list().size() == 1) return "(" + py_repr(v.as_list()[0]) + ",)";
          return "(" + join_reprs(v.as_list()) + ")";
        case ListFlavor::kRange: return v.as_string();
        case ListFlavor::kDictKeys: return "dict_keys([" + join_reprs(v.as_list()) + "])";
        case ListFlavor::kDictValues: return "dict_values([" + join_reprs(v.as_list()) + "])";
        case ListFlavor::kDictItems: return "dict_items([" + join_reprs(v.as_list()) + "])";
      }
      return "";
    }
    case K::kDict: return dict_repr(v.as_dict());
    case K::kNamespace: return "<Namespace " + dict_repr(v.as_namespace().attrs) + ">";
    case K::kLoop: {
      const LoopState& s = v.as_loop();
      return "<LoopContext " + std::to_string(s.index0 + 1) + "/" + std::to_string(s.items.size()) +
             ">";
    }
    case K::kCallable:
      if (v.as_callable().is_macro) return "<Macro " + py_repr_string(v.as_callable().name) + ">";
      unprintable(v);
    case K::kIterator: unprintable(v);
  }
  return "";
}

// ---- equality and ordering ----------------------------------------------------------------

namespace {

bool is_sequence_pair(const Value& a, const Value& b) {
  if (!a.is_list() || !b.is_list()) return false;
  auto cat = [](ListFlavor f) {
    return f == ListFlavor::kList ? 0 : f == ListFlavor::kTuple ? 1 : f == ListFlavor::kRange ? 2 : 3;
  };
  return cat(a.flavor()) == cat(b.flavor()) && cat(a.flavor()) != 3;
}

bool numbers_equal(const Value& a, const Value& b) {
  if (!a.is_float() && !b.is_float()) return a.as_int() == b.as_int();
  return a.as_float() == b.as_float();
}

}  // namespace

bool py_equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kUndefined:
    case K::kNone: return true;
    case K::kString: return a.as_string() == b.as_string();
    case K::kList: {
      if (!is_sequence_pair(a, b)) {
        if (a.flavor() != b.flavor() || a.flavor() == ListFlavor::kDictValues) return a.identity() == b.identity();
        // dict_keys / dict_items compare like sets.
        if (a.as_list().size() != b.as_list().size()) return false;
        for (const auto& x : a.as_list()) {
          bool found = false;
          for (const auto& y : b.as_list()) found = found || py_equal(x, y);
          if (!found) return false;
        }
        return true;
      }
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!py_equal(x[i], y[i])) return false;
      return true;
    }
    case K::kDict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.items()) {
        const Value* other = y.find(k);
        if (!other || !py_equal(v, *other)) return false;
      }
      return true;
    }
    default: return a.identity() == b.identity();
  }
}

bool py_less(const Value& a, const Value& b, std::string_view op) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) {
      int64_t x = a.as_int(), y = b.as_int();
      if (op == "<") return x < y;
      if (op == "<=") return x <= y;
      if (op == ">") return x > y;
      return x >= y;
    }
    double x = a.as_float(), y = b.as_float();
    if (op == "<") return x < y;
    if (op == "<=") return x <= y;
    if (op == ">") return x > y;
    return x >= y;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.as_string().compare(b.as_string());  // UTF-8 byte order == code point order
    if (op == "<") return c < 0;
    if (op == "<=") return c <= 0;
    if (op == ">") return c > 0;
    return c >= 0;
  }
  if (is_sequence_pair(a, b) && a.flavor() != ListFlavor::kRange) {
    const auto& x = a.as_list();
    const auto& y = b.as_list();
    size_t i = 0;
    while (i < x.size() && i < y.size() && py_equal(x[i], y[i])) ++i;
    if (i < x.size() && i < y.size()) return py_less(x[i], y[i], op);
    return py_less(Value::integer(static_cast<int64_t>(x.size())),
                   Value::integer(static_cast<int64_t>(y.size())), op);
  }
  if (a.is_undefined()) throw_undefined(a);
  if (b.is_undefined()) throw_undefined(b);
  throw_type_error("'" + std::string(op) + "' not supported between instances of '" +
                   type_name(a) + "' and '" + type_name(b) + "'");
}

void check_hashable(const Value& v) {
  if (v.is_dict() || (v.is_list() && v.flavor() != ListFlavor::kTuple && v.flavor() != ListFlavor::kRange))
    throw_type_error("unhashable type: '" + type_name(v) + "'");
  if (v.is_list() && v.flavor() == ListFlavor::kTuple)
    for (const auto& item : v.as_list()) check_hashable(item);
}

ValueList iterate(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined: return {};
    case K::kList: return v.as_list();
    case K::kDict: {
      ValueList keys;
      for (const auto& [k, _] : v.as_dict().items()) keys.push_back(k);
      return keys;
    }
    case K::kString: {
      ValueList chars;
      for (char32_t cp : utf8_decode(v.as_string())) {
        std::string s;
        append_utf8(s, cp);
        chars.push_back(Value::string(std::move(s), v.is_markup()));
      }
      return chars;
    }
    case K::kIterator: {
      Iterator& it = v.as_iterator();
      ValueList rest(it.items.begin() + static_cast<std::ptrdiff_t>(it.pos), it.items.end());
      it.pos = it.items.size();
      return rest;
    }
    default: throw_type_error("'" + type_name(v) + "' object is not iterable");
  }
}

int64_t py_len(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined: return 0;
    case K::kString: return static_cast<int64_t>(utf8_length(v.as_string()));
    case K::kList: return static_cast<int64_t>(v.as_list().size());
    case K::kDict: return static_cast<int64_t>(v.as_dict().size());
    case K::kLoop: return static_cast<int64_t>(v.as_loop().items.size());
    default: throw_type_error("object of type '" + type_name(v) + "' has no len()");
  }
}

}  // namespace tessera::jinja

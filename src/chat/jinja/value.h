// Values a Jinja2 template sees: the Python objects that JSON maps to (None, bool, int, float,
// str, list, dict) plus tuples and the runtime's own objects (Undefined, namespace, macros,
// the `loop` variable, one-shot iterators). Printing, truthiness, equality and ordering follow
// Python so rendered text matches Jinja2 byte for byte.
//
// Containers are immutable once built (the template runs in Jinja2's ImmutableSandbox) and are
// shared by pointer, so copying a Value is cheap. Only Namespace and iterator state mutate.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::jinja {

// A Python-level exception raised while rendering ("TypeError: ..."). The renderer adds the
// template line and turns it into tessera::Error.
class PyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
[[noreturn]] void throw_type_error(const std::string& message);
[[noreturn]] void throw_value_error(const std::string& message);

class Value;
using ValueList = std::vector<Value>;

// Ordered mapping with Python key semantics (1 == 1.0 == True). Lookups are linear: chat
// template dicts are small.
class Dict {
 public:
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);  // replaces in place, or appends
  // Appends without the duplicate scan; the caller guarantees `key` is not present (JSON
  // objects from nlohmann are already de-duplicated).
  void append_new(Value key, Value value);
  const std::vector<std::pair<Value, Value>>& items() const { return items_; }
  size_t size() const;  // out of line: Value is still incomplete here

 private:
  std::vector<std::pair<Value, Value>> items_;
};

// What a Python list-like prints as; all share list storage.
enum class ListFlavor { kList, kTuple, kRange, kDictKeys, kDictValues, kDictItems };

struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keywords;
};

// Heap objects with identity: namespace(), macros/builtins, loop, iterators.
struct Namespace {
  Dict attrs;
};
struct Callable {
  std::string name;
  bool is_macro = false;  // prints as <Macro 'name'>; builtins have no stable text
  std::function<Value(CallArgs&)> call;
};
// A one-shot Python iterator (generator from map/select, reversed(), iter(dict.items())).
// Truthy even when empty, has no len(), and is consumed by the first pass over it.
struct Iterator {
  ValueList items;
  size_t pos = 0;
  std::string py_type;  // "generator", "list_reverseiterator", ...
};
struct LoopState;  // defined by the interpreter

class Value {
 public:
  enum class Kind {
    kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict,
    kNamespace, kCallable, kIterator, kLoop,
  };

  Value() = default;  // Undefined
  static Value undefined(std::string message);
  static Value none();
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value number(double v);
  static Value string(std::string v, bool markup = false);
  static Value list(ValueList items, ListFlavor flavor = ListFlavor::kList);
  static Value tuple(ValueList items) { return list(std::move(items), ListFlavor::kTuple); }
  static Value range(int64_t start, int64_t stop, int64_t step);
  static Value dict(Dict d);
  static Value namespace_object(std::shared_ptr<Namespace> ns);
  static Value callable(std::shared_ptr<Callable> fn);
  static Value iterator(ValueList items, std::string py_type);
  static Value loop(std::shared_ptr<LoopState> state);
  static Value from_json(const nlohmann::ordered_json& json);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_markup() const { return kind_ == Kind::kString && markup_; }
  bool is_list() const { return kind_ == Kind::kList; }  // any ListFlavor
  bool is_dict() const { return kind_ == Kind::kDict; }
  ListFlavor flavor() const { return flavor_; }

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return int_; }  // also bools (True == 1)
  double as_float() const;                 // int, bool or float
  const std::string& as_string() const { return *str_; }  // string, or undefined's message
  const ValueList& as_list() const { return *list_; }
  const Dict& as_dict() const { return *dict_; }
  Namespace& as_namespace() const { return *ns_; }
  const Callable& as_callable() const { return *fn_; }
  Iterator& as_iterator() const { return *iter_; }
  LoopState& as_loop() const { return *loop_; }
  const std::shared_ptr<LoopState>& loop_ptr() const { return loop_; }
  // For `is sameas`: same object (containers) or same immutable value.
  const void* identity() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool markup_ = false;
  ListFlavor flavor_ = ListFlavor::kList;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<const std::string> str_;
  std::shared_ptr<const ValueList> list_;
  std::shared_ptr<const Dict> dict_;
  std::shared_ptr<Namespace> ns_;
  std::shared_ptr<Callable> fn_;
  std::shared_ptr<Iterator> iter_;
  std::shared_ptr<LoopState> loop_;
};

// The `loop` variable of a for loop (jinja2.runtime.LoopContext) over pre-evaluated items.
struct LoopState {
  ValueList items;
  int64_t index0 = 0;
  int64_t depth0 = 0;
  bool changed_called = false;
  Value last_changed;  // argument tuple of the last loop.changed() call
};

// Undefined values carry the full exception text ("UndefinedError: 'x' is undefined") raised
// when a template uses them in a way Jinja2's Undefined does not allow.
Value undefined_name(const std::string& name);                     // 'x' is undefined
Value undefined_attribute(const Value& obj, const std::string& name);  // 'dict object' has no attribute 'x'
Value undefined_element(const Value& obj, const Value& key);        // list object has no element 5
Value undefined_hint(const std::string& hint);                     // there is no previous item
[[noreturn]] void throw_undefined(const Value& undefined);

// Python-style argument binding for builtins: positional then keyword, with defaults.
struct Param {
  std::string_view name;
  bool required = true;
  Value default_value;
};
inline Param required(std::string_view name) { return Param{name, true, Value()}; }
inline Param optional(std::string_view name, Value default_value) {
  return Param{name, false, std::move(default_value)};
}
ValueList bind_args(std::string_view function, const CallArgs& args, const std::vector<Param>& params);

// Python type(x).__name__, used in error messages ("'int' object is not iterable").
std::string type_name(const Value& v);
// Jinja2's object_type_repr: "dict object", "None", ... (used in undefined messages).
std::string object_type_repr(const Value& v);

bool truthy(const Value& v);
std::string py_str(const Value& v);   // str(x): what {{ x }} prints
std::string py_repr(const Value& v);  // repr(x): how x prints inside a container
bool py_equal(const Value& a, const Value& b);
// a < b with Python's rules; throws TypeError for unordered pairs. `op` names the operator.
bool py_less(const Value& a, const Value& b, std::string_view op = "<");
// Raises TypeError("unhashable type: 'list'") for values that cannot be dict keys.
void check_hashable(const Value& v);

// The items a `for` loop or list() sees: list/tuple items, dict keys, string code points,
// iterator remainder (consumed), nothing for Undefined. TypeError for the rest.
ValueList iterate(const Value& v);
// len(x); TypeError for values without a length.
int64_t py_len(const Value& v);

}  // namespace tessera::jinja

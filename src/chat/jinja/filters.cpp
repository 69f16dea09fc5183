// Jinja2 builtin filters and tests (see jinja_filters.h). Each filter cites the Python it
// reproduces where the behaviour is not obvious.
#include "chat/jinja/filters.h"

#include "chat/jinja/access.h"
#include "chat/jinja/json.h"
#include "chat/jinja/ops.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/py_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace tessera::jinja {

namespace {

Value none() { return Value::none(); }

// soft_str: strings (and Markup) unchanged, everything else str().
Value soft_str(const Value& v) {
  if (v.is_string()) return v;
  return Value::string(py_str(v));
}

Value ignore_case(const Value& v) {
  if (v.is_string()) return Value::string(py_lower(v.as_string()));
  return v;
}

// _prepare_attribute_parts + environment.getitem chain ("a.b.0").
Value lookup_attribute(const Value& item, const Value& attribute, const Value& default_value) {
  Value cur = item;
  if (attribute.is_none()) return cur;
  std::vector<Value> parts;
  if (attribute.is_string()) {
    for (const auto& p : py_split(attribute.as_string(), std::string("."), -1)) {
      // _prepare_attribute_parts: all-digit parts ("items.0") index as integers.
      bool digits = !p.empty() && p.size() < 19 &&
                    std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
      parts.push_back(digits ? Value::integer(std::strtoll(p.c_str(), nullptr, 10)) : Value::string(p));
    }
  } else {
    parts.push_back(attribute);
  }
  for (const auto& part : parts) {
    cur = get_item(cur, part);
    if (!default_value.is_none() && cur.is_undefined()) cur = default_value;
  }
  return cur;
}

// make_multi_attrgetter: "age,name" -> [item.age, item.name]
Value multi_attribute_key(const Value& item, const Value& attribute, bool case_sensitive) {
  if (attribute.is_none()) return case_sensitive ? item : ignore_case(item);
  std::vector<Value> attrs;
  if (attribute.is_string()) {
    for (const auto& a : py_split(attribute.as_string(), std::string(","), -1)) attrs.push_back(Value::string(a));
  } else {
    attrs.push_back(attribute);
  }
  ValueList keys;
  for (const auto& a : attrs) {
    Value k = lookup_attribute(item, a, none());
    keys.push_back(case_sensitive ? k : ignore_case(k));
  }
  return Value::list(std::move(keys));
}

std::optional<std::string> opt_string(const Value& v, const char* what) {
  if (v.is_none()) return std::nullopt;
  if (!v.is_string()) throw_type_error(std::string(what) + " must be str or None, not " + type_name(v));
  return v.as_string();
}

int64_t int_value(const Value& v, const char* what) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  throw_type_error(std::string("'") + type_name(v) + "' object cannot be interpreted as an integer (" + what + ")");
}

// Python int(str, base): whitespace, sign, underscores between digits, optional base prefix.
std::optional<int64_t> parse_python_int(const std::string& text, int base) {
  std::string s = py_strip(text, std::nullopt, true, true);
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i + 1 < s.size() && s[i] == '0') {
    char p = static_cast<char>(s[i + 1] | 0x20);
    if ((p == 'x' && base == 16) || (p == 'o' && base == 8) || (p == 'b' && base == 2)) {
      i += 2;
      if (i < s.size() && s[i] == '_') ++i;
    }
  }
  if (i >= s.size()) return std::nullopt;
  std::string digits;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] == '_') {
      if (k == i || k + 1 >= s.size() || s[k + 1] == '_') return std::nullopt;
      continue;
    }
    digits += s[k];
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, base);
  if (*end != '\0' || digits.empty() || digits[0] == '+' || digits[0] == '-') return std::nullopt;
  if (errno == ERANGE) throw PyError("unsupported: integer '" + text + "' does not fit in 64 bits");
  return neg ? -v : v;
}

// Python float(str).
std::optional<double> parse_python_float(const std::string& text) {
  std::string s = py_strip(text, std::nullopt, true, true);
  std::string t;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '_') {
      bool ok = k > 0 && k + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[k - 1])) &&
                std::isdigit(static_cast<unsigned char>(s[k + 1]));
      if (!ok) return std::nullopt;
      continue;
    }
    t += s[k];
  }
  std::string lower = py_lower(t);
  std::string body = (!lower.empty() && (lower[0] == '+' || lower[0] == '-')) ? lower.substr(1) : lower;
  if (body == "inf" || body == "infinity" || body == "nan") {
    double v = body == "nan" ? std::nan("") : std::numeric_limits<double>::infinity();
    return lower[0] == '-' ? -v : v;
  }
  if (t.empty() || lower.find_first_not_of("0123456789.e+-") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return v;
}

Value filter_int(const Value& v, const Value& default_value, const Value& base_v) {
  if (v.is_undefined()) throw_undefined(v);  // Undefined.__int__ raises
  int base = static_cast<int>(int_value(base_v, "int base"));
  if (v.is_string()) {
    if (auto i = parse_python_int(v.as_string(), base)) return Value::integer(*i);
    if (auto f = parse_python_float(v.as_string())) {  // "42.23"|int gives 42
      if (std::isfinite(*f)) return Value::integer(static_cast<int64_t>(*f));
      throw PyError("OverflowError: cannot convert float infinity or NaN to integer");
    }
    return default_value;
  }
  if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());
  if (v.is_float()) {
    if (!std::isfinite(v.as_float())) throw PyError("OverflowError: cannot convert float infinity or NaN to integer");
    return Value::integer(static_cast<int64_t>(v.as_float()));
  }
  return default_value;
}

Value filter_float(const Value& v, const Value& default_value) {
  if (v.is_undefined()) throw_undefined(v);  // Undefined.__float__ raises
  if (v.is_number()) return Value::number(v.as_float());
  if (v.is_string())
    if (auto f = parse_python_float(v.as_string())) return Value::number(*f);
  return default_value;
}

Value filter_round(const Value& v, const Value& precision_v, const Value& method_v) {
  std::string method = method_v.is_string() ? method_v.as_string() : "";
  if (method != "common" && method != "ceil" && method != "floor")
    throw PyError("FilterArgumentError: method must be common, ceil or floor");
  int64_t precision = int_value(precision_v, "round precision");
  if (!v.is_number()) throw_type_error("type " + type_name(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (!v.is_float()) {
      if (precision >= 0) return Value::integer(v.as_int());
      throw PyError("unsupported: round() of an int to negative precision");
    }
    double x = v.as_float();
    if (!std::isfinite(x)) return v;
    if (precision >= 0 && precision < 300) {
      // Correctly rounded decimal, half-even on exact ties: what CPython's round() does.
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), x);
      return Value::number(std::strtod(buf, nullptr));
    }
    double p = std::pow(10.0, static_cast<double>(-precision));
    return Value::number(std::nearbyint(x / p) * p);
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double y = v.as_float() * scale;
  y = method == "ceil" ? std::ceil(y) : std::floor(y);
  return Value::number(y / scale);
}

Value filter_indent(const Value& s_v, const Value& width, const Value& first, const Value& blank) {
  // do_indent starts with `s += "\n"`, which only a str survives.
  if (s_v.is_undefined()) throw_undefined(s_v);
  if (!s_v.is_string()) {
    if (s_v.is_list() && s_v.flavor() == ListFlavor::kList)
      throw PyError("AttributeError: 'list' object has no attribute 'splitlines'");
    throw_type_error("unsupported operand type(s) for +=: '" + type_name(s_v) + "' and 'str'");
  }
  std::string indention = width.is_string() ? width.as_string() : std::string(static_cast<size_t>(std::max<int64_t>(0, int_value(width, "indent width"))), ' ');
  std::string s = py_str(s_v) + "\n";  // the quirk splitlines() needs
  std::vector<std::string> lines = py_splitlines(s, false);
  std::string rv;
  if (truthy(blank)) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    if (lines.size() > 1) {
      rv += "\n";
      for (size_t i = 1; i < lines.size(); ++i) {
        if (i > 1) rv += "\n";
        rv += lines[i].empty() ? lines[i] : indention + lines[i];
      }
    }
  }
  if (truthy(first)) rv = indention + rv;
  return Value::string(rv, s_v.is_markup());
}

Value filter_truncate(const Value& s_v, const Value& length_v, const Value& killwords,
                      const Value& end_v, const Value& leeway_v) {
  int64_t length = int_value(length_v, "truncate length");
  std::string end = py_str(end_v);
  auto end_len = static_cast<int64_t>(utf8_length(end));
  int64_t leeway = leeway_v.is_none() ? 5 : int_value(leeway_v, "truncate leeway");
  if (length < end_len) throw PyError("AssertionError: expected length >= " + std::to_string(end_len) + ", got " + std::to_string(length));
  if (leeway < 0) throw PyError("AssertionError: expected leeway >= 0, got " + std::to_string(leeway));
  // do_truncate works on the value itself: len() first, then slicing and str.rsplit.
  if (py_len(s_v) <= length + leeway) return s_v;
  if (!s_v.is_string()) throw PyError("unsupported: truncate of a long " + type_name(s_v));
  std::u32string s = utf8_decode(s_v.as_string());
  std::string head = utf8_encode(std::u32string_view(s).substr(0, static_cast<size_t>(length - end_len)));
  if (truthy(killwords)) return Value::string(head + end);
  return Value::string(py_rsplit(head, std::string(" "), 1)[0] + end);
}

Value filter_title(const Value& v) {
  // "".join(item[0].upper() + item[1:].lower() for item in re.split(r"([-\s({\[<]+)", s) if item)
  std::u32string s = utf8_decode(py_str(v));
  auto is_sep = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c); };
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    bool sep = is_sep(s[i]);
    while (j < s.size() && is_sep(s[j]) == sep) ++j;
    std::string first;
    append_utf8(first, s[i]);
    out += py_upper(first) + py_lower(utf8_encode(std::u32string_view(s).substr(i + 1, j - i - 1)));
    i = j;
  }
  return Value::string(out, v.is_markup());
}

int64_t word_count(const std::string& s) {
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : utf8_decode(s)) {
    bool w = c == '_' || py_isalnum(c);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return n;
}

Value sorted_values(const ValueList& items, const std::function<Value(const Value&)>& key, bool reverse) {
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& item : items) keyed.emplace_back(key(item), item);
  // sorted(..., reverse=True) keeps equal items in original order, like a stable sort on >.
  std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& a, const auto& b) {
    return reverse ? py_less(b.first, a.first) : py_less(a.first, b.first);
  });
  ValueList out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return Value::list(std::move(out));
}

Value min_or_max(const Value& seq, bool is_max, const Value& case_sensitive, const Value& attribute) {
  ValueList items = iterate(seq);
  if (items.empty()) return undefined_hint("No aggregated item, sequence was empty.");
  bool cs = truthy(case_sensitive);
  auto key = [&](const Value& item) {
    Value k = lookup_attribute(item, attribute, none());
    return cs ? k : ignore_case(k);
  };
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    if (py_less(k, best_key, is_max ? ">" : "<")) {  // what Python's max()/min() compare
      best = i;
      best_key = k;
    }
  }
  return items[best];
}

Value filter_tojson(const Value& v, const CallArgs& args) {
  auto a = bind_args("tojson", args, {optional("ensure_ascii", Value::boolean(false)), optional("indent", none()),
                                      optional("separators", none()), optional("sort_keys", Value::boolean(false))});
  JsonDumpOptions o;
  o.ensure_ascii = truthy(a[0]);
  if (a[1].is_string()) o.indent = a[1].as_string();
  else if (a[1].is_int()) o.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, a[1].as_int())), ' ');
  else if (!a[1].is_none()) throw_type_error("tojson indent must be int, str or None");
  if (!a[2].is_none()) {
    if (!a[2].is_list() || a[2].as_list().size() != 2 || !a[2].as_list()[0].is_string() || !a[2].as_list()[1].is_string())
      throw_value_error("tojson separators must be a (item_separator, key_separator) pair of strings");
    o.item_separator = a[2].as_list()[0].as_string();
    o.key_separator = a[2].as_list()[1].as_string();
  }
  o.sort_keys = truthy(a[3]);
  return Value::string(json_dumps(v, o));
}

// map / select / reject / selectattr / rejectattr
Value filter_map(const Value& seq, const CallArgs& args) {
  ValueList out;
  bool by_attribute = args.positional.empty();
  Value attribute, default_value = none();
  std::string filter_name;
  CallArgs rest;
  if (!truthy(seq)) return Value::iterator({}, "generator");  // sync_do_map: `if value:`
  if (by_attribute) {
    for (const auto& [k, v] : args.keywords) {
      if (k == "attribute") attribute = v;
      else if (k == "default") default_value = v;
      else throw PyError("FilterArgumentError: Unexpected keyword argument '" + k + "'");
    }
    if (attribute.is_undefined()) throw PyError("FilterArgumentError: map requires a filter argument");
  } else {
    if (!args.positional[0].is_string()) throw PyError("unsupported: map() with a non-string filter name");
    filter_name = args.positional[0].as_string();
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keywords = args.keywords;
  }
  for (const auto& item : iterate(seq))
    out.push_back(by_attribute ? lookup_attribute(item, attribute, default_value) : apply_filter(filter_name, item, rest));
  return Value::iterator(std::move(out), "generator");
}

Value select_or_reject(const Value& seq, const CallArgs& args, bool select, bool lookup_attr) {
  ValueList out;
  if (!truthy(seq)) return Value::iterator({}, "generator");
  size_t off = 0;
  Value attr;
  if (lookup_attr) {
    if (args.positional.empty()) throw PyError("FilterArgumentError: Missing parameter for attribute name");
    attr = args.positional[0];
    off = 1;
  }
  bool has_test = args.positional.size() > off;
  std::string test_name;
  CallArgs test_args;
  if (has_test) {
    if (!args.positional[off].is_string()) throw PyError("unsupported: select() with a non-string test name");
    test_name = args.positional[off].as_string();
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(off + 1), args.positional.end());
    test_args.keywords = args.keywords;
  }
  for (const auto& item : iterate(seq)) {
    Value x = lookup_attr ? lookup_attribute(item, attr, none()) : item;
    bool ok = has_test ? apply_test(test_name, x, test_args) : truthy(x);
    if (ok == select) out.push_back(item);
  }
  return Value::iterator(std::move(out), "generator");
}

Value reversed_value(const Value& v) {
  if (v.is_string()) {
    std::u32string s = utf8_decode(v.as_string());
    std::reverse(s.begin(), s.end());
    return Value::string(utf8_encode(s), v.is_markup());
  }
  if (v.is_list() || v.is_dict() || v.is_undefined()) {
    ValueList items = iterate(v);
    std::reverse(items.begin(), items.end());
    if (v.is_list() && v.flavor() == ListFlavor::kDictValues)
      throw PyError("unsupported: reversed() of dict values");
    return Value::iterator(std::move(items), v.is_dict() ? "dict_reversekeyiterator" : "list_reverseiterator");
  }
  // reversed() fails on iterators; Jinja then falls back to a reversed list.
  if (v.kind() != Value::Kind::kIterator) throw PyError("FilterArgumentError: argument must be iterable");
  ValueList items = iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value first_item(const Value& v) {
  ValueList items = iterate(v);
  if (items.empty()) return undefined_hint("No first item, sequence was empty.");
  return items.front();
}

Value last_item(const Value& v) {
  if (v.kind() == Value::Kind::kIterator)
    throw_type_error("'" + type_name(v) + "' object is not reversible");
  if (!(v.is_list() || v.is_dict() || v.is_string() || v.is_undefined()))
    throw_type_error("'" + type_name(v) + "' object is not reversible");
  ValueList items = iterate(v);
  if (items.empty()) return undefined_hint("No last item, sequence was empty.");
  return items.back();
}

Value slice_filter(const Value& seq, const Value& slices_v, const Value& fill_with) {
  ValueList items = iterate(seq);
  int64_t slices = int_value(slices_v, "slice count");
  if (slices <= 0) throw PyError("ZeroDivisionError: integer division or modulo by zero");
  auto length = static_cast<int64_t>(items.size());
  int64_t per = length / slices, extra = length % slices, offset = 0;
  ValueList out;
  for (int64_t n = 0; n < slices; ++n) {
    int64_t start = offset + n * per;
    if (n < extra) ++offset;
    int64_t end = offset + (n + 1) * per;
    ValueList tmp(items.begin() + start, items.begin() + end);
    if (!fill_with.is_none() && n >= extra) tmp.push_back(fill_with);
    out.push_back(Value::list(std::move(tmp)));
  }
  return Value::iterator(std::move(out), "generator");
}

Value batch_filter(const Value& seq, const Value& count_v, const Value& fill_with) {
  int64_t count = int_value(count_v, "batch size");
  ValueList out, tmp;
  for (const auto& item : iterate(seq)) {
    if (static_cast<int64_t>(tmp.size()) == count) {
      out.push_back(Value::list(tmp));
      tmp.clear();
    }
    tmp.push_back(item);
  }
  if (!tmp.empty()) {
    if (!fill_with.is_none())
      while (static_cast<int64_t>(tmp.size()) < count) tmp.push_back(fill_with);
    out.push_back(Value::list(tmp));
  }
  return Value::iterator(std::move(out), "generator");
}

}  // namespace

Value apply_filter(const std::string& name, const Value& v, const CallArgs& args) {
  auto bind = [&](const std::vector<Param>& params) { return bind_args(name, args, params); };
  if (name == "tojson") return filter_tojson(v, args);
  if (name == "safe") return bind({}), Value::string(py_str(v), true);
  if (name == "escape" || name == "e" || name == "forceescape") {
    bind({});
    if (v.is_markup() && name != "forceescape") return v;
    return Value::string(html_escape(py_str(v)), true);
  }
  if (name == "trim") {
    auto a = bind({optional("chars", none())});
    Value s = soft_str(v);
    return Value::string(py_strip(s.as_string(), opt_string(a[0], "trim chars"), true, true), s.is_markup());
  }
  if (name == "string") return bind({}), soft_str(v);
  if (name == "upper") return bind({}), Value::string(py_upper(py_str(v)), v.is_markup());
  if (name == "lower") return bind({}), Value::string(py_lower(py_str(v)), v.is_markup());
  if (name == "capitalize") return bind({}), Value::string(py_capitalize(py_str(v)), v.is_markup());
  if (name == "title") return bind({}), filter_title(v);
  if (name == "length" || name == "count") return bind({}), Value::integer(py_len(v));
  if (name == "list") return bind({}), Value::list(iterate(v));
  if (name == "first") return bind({}), first_item(v);
  if (name == "last") return bind({}), last_item(v);
  if (name == "default" || name == "d") {
    auto a = bind({optional("default_value", Value::string("")), optional("boolean", Value::boolean(false))});
    if (v.is_undefined() || (truthy(a[1]) && !truthy(v))) return a[0];
    return v;
  }
  if (name == "join") {
    auto a = bind({optional("d", Value::string("")), optional("attribute", none())});
    std::string sep = py_str(a[0]), out;
    bool first = true;
    for (const auto& item : iterate(v)) {
      if (!first) out += sep;
      first = false;
      out += py_str(a[1].is_none() ? item : lookup_attribute(item, a[1], none()));
    }
    return Value::string(std::move(out));
  }
  if (name == "items") {
    bind({});
    if (v.is_undefined()) return Value::iterator({}, "generator");
    if (!v.is_dict()) throw_type_error("Can only get item pairs from a mapping.");
    ValueList out;
    for (const auto& [k, x] : v.as_dict().items()) out.push_back(Value::tuple({k, x}));
    return Value::iterator(std::move(out), "generator");
  }
  if (name == "replace") {
    auto a = bind({required("old"), required("new"), optional("count", none())});
    int64_t count = a[2].is_none() ? -1 : int_value(a[2], "replace count");
    return Value::string(py_replace(py_str(v), py_str(a[0]), py_str(a[1]), count));
  }
  if (name == "int") {
    auto a = bind({optional("default", Value::integer(0)), optional("base", Value::integer(10))});
    return filter_int(v, a[0], a[1]);
  }
  if (name == "float") {
    auto a = bind({optional("default", Value::number(0.0))});
    return filter_float(v, a[0]);
  }
  if (name == "abs") {
    bind({});
    if (v.is_float()) return Value::number(std::fabs(v.as_float()));
    if (v.is_int() || v.is_bool()) return v.as_int() < 0 ? unary_minus(v) : Value::integer(v.as_int());
    throw_type_error("bad operand type for abs(): '" + type_name(v) + "'");
  }
  if (name == "round") {
    auto a = bind({optional("precision", Value::integer(0)), optional("method", Value::string("common"))});
    return filter_round(v, a[0], a[1]);
  }
  if (name == "map") return filter_map(v, args);
  if (name == "select" || name == "reject") return select_or_reject(v, args, name == "select", false);
  if (name == "selectattr" || name == "rejectattr") return select_or_reject(v, args, name == "selectattr", true);
  if (name == "unique") {
    auto a = bind({optional("case_sensitive", Value::boolean(false)), optional("attribute", none())});
    ValueList out, seen;
    for (const auto& item : iterate(v)) {
      Value key = lookup_attribute(item, a[1], none());
      if (!truthy(a[0])) key = ignore_case(key);
      check_hashable(key);
      bool dup = false;
      for (const auto& s : seen) dup = dup || py_equal(s, key);
      if (!dup) {
        seen.push_back(key);
        out.push_back(item);
      }
    }
    return Value::iterator(std::move(out), "generator");
  }
  if (name == "sort") {
    auto a = bind({optional("reverse", Value::boolean(false)), optional("case_sensitive", Value::boolean(false)),
                   optional("attribute", none())});
    bool cs = truthy(a[1]);
    Value attribute = a[2];
    return sorted_values(iterate(v), [&](const Value& item) { return multi_attribute_key(item, attribute, cs); }, truthy(a[0]));
  }
  if (name == "dictsort") {
    auto a = bind({optional("case_sensitive", Value::boolean(false)), optional("by", Value::string("key")),
                   optional("reverse", Value::boolean(false))});
    if (v.is_undefined()) throw_undefined(v);
    if (!v.is_dict()) throw PyError("AttributeError: '" + type_name(v) + "' object has no attribute 'items'");
    std::string by = py_str(a[1]);
    if (by != "key" && by != "value") throw PyError("FilterArgumentError: You can only sort by either \"key\" or \"value\"");
    size_t pos = by == "key" ? 0 : 1;
    ValueList pairs;
    for (const auto& [k, x] : v.as_dict().items()) pairs.push_back(Value::tuple({k, x}));
    bool cs = truthy(a[0]);
    return sorted_values(pairs, [&](const Value& p) { return cs ? p.as_list()[pos] : ignore_case(p.as_list()[pos]); }, truthy(a[2]));
  }
  if (name == "min" || name == "max") {
    auto a = bind({optional("case_sensitive", Value::boolean(false)), optional("attribute", none())});
    return min_or_max(v, name == "max", a[0], a[1]);
  }
  if (name == "sum") {
    auto a = bind({optional("attribute", none()), optional("start", Value::integer(0))});
    Value total = a[1];
    for (const auto& item : iterate(v)) total = binary_op("+", total, lookup_attribute(item, a[0], none()));
    return total;
  }
  if (name == "reverse") return bind({}), reversed_value(v);
  if (name == "attr") {
    auto a = bind({required("name")});
    if (!a[0].is_string()) throw_type_error("attribute name must be string");
    if (auto attr = get_python_attribute(v, a[0].as_string())) return *attr;
    return undefined_attribute(v, a[0].as_string());
  }
  if (name == "center") {
    auto a = bind({optional("width", Value::integer(80))});
    int64_t width = int_value(a[0], "center width");
    std::string s = py_str(v);
    auto len = static_cast<int64_t>(utf8_length(s));
    if (width <= len) return Value::string(s);
    int64_t marg = width - len, left = marg / 2 + (marg & width & 1);
    return Value::string(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(marg - left), ' '));
  }
  if (name == "indent") {
    auto a = bind({optional("width", Value::integer(4)), optional("first", Value::boolean(false)),
                   optional("blank", Value::boolean(false))});
    return filter_indent(v, a[0], a[1], a[2]);
  }
  if (name == "truncate") {
    auto a = bind({optional("length", Value::integer(255)), optional("killwords", Value::boolean(false)),
                   optional("end", Value::string("...")), optional("leeway", none())});
    return filter_truncate(v, a[0], a[1], a[2], a[3]);
  }
  if (name == "wordcount") return bind({}), Value::integer(word_count(py_str(v)));
  if (name == "format") {
    if (!args.positional.empty() && !args.keywords.empty())
      throw PyError("FilterArgumentError: can't handle positional and keyword arguments at the same time");
    Value fmt_args;
    if (!args.keywords.empty()) {
      Dict d;
      for (const auto& [k, x] : args.keywords) d.set(Value::string(k), x);
      fmt_args = Value::dict(std::move(d));
    } else {
      fmt_args = Value::tuple(args.positional);
    }
    Value s = soft_str(v);
    return Value::string(percent_format(s.as_string(), fmt_args), s.is_markup());
  }
  if (name == "batch") {
    auto a = bind({required("linecount"), optional("fill_with", none())});
    return batch_filter(v, a[0], a[1]);
  }
  if (name == "slice") {
    auto a = bind({required("slices"), optional("fill_with", none())});
    return slice_filter(v, a[0], a[1]);
  }
  if (is_jinja_filter_name(name)) throw PyError("unsupported: Jinja filter '" + name + "' in a chat template");
  throw PyError("TemplateRuntimeError: No filter named '" + name + "' found.");
}

namespace {

bool is_small_int_identity(const Value& a, const Value& b) {
  // CPython caches ints in [-5, 256]; `is` is identity, so only those compare equal.
  return a.is_int() && b.is_int() && a.as_int() == b.as_int() && a.as_int() >= -5 && a.as_int() <= 256;
}

Value one_arg(const std::string& name, const CallArgs& args) {
  auto a = bind_args(name, args, {required("other")});
  return a[0];
}

}  // namespace

bool apply_test(const std::string& name, const Value& v, const CallArgs& args) {
  using K = Value::Kind;
  auto no_args = [&]() { bind_args(name, args, {}); };
  if (name == "defined") return no_args(), !v.is_undefined();
  if (name == "undefined") return no_args(), v.is_undefined();
  if (name == "none") return no_args(), v.is_none();
  if (name == "boolean") return no_args(), v.is_bool();
  if (name == "true") return no_args(), v.is_bool() && v.as_bool();
  if (name == "false") return no_args(), v.is_bool() && !v.as_bool();
  if (name == "integer") return no_args(), v.is_int();
  if (name == "float") return no_args(), v.is_float();
  if (name == "number") return no_args(), v.is_number();
  if (name == "string") return no_args(), v.is_string();
  if (name == "mapping") return no_args(), v.is_dict();
  if (name == "escaped") return no_args(), v.is_markup();
  if (name == "sequence") {
    no_args();
    // len(x) and x.__getitem__ both exist
    if (v.is_list()) return v.flavor() == ListFlavor::kList || v.flavor() == ListFlavor::kTuple || v.flavor() == ListFlavor::kRange;
    return v.is_string() || v.is_dict() || v.is_undefined();
  }
  if (name == "iterable") {
    no_args();
    return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined() || v.kind() == K::kIterator ||
           v.kind() == K::kLoop;
  }
  if (name == "callable") {
    no_args();
    return v.kind() == K::kCallable || v.is_undefined() || v.kind() == K::kLoop;
  }
  if (name == "odd" || name == "even") {
    no_args();
    Value r = binary_op("%", v, Value::integer(2));
    return py_equal(r, Value::integer(name == "odd" ? 1 : 0));
  }
  if (name == "divisibleby") {
    auto a = bind_args(name, args, {required("num")});
    return py_equal(binary_op("%", v, a[0]), Value::integer(0));
  }
  if (name == "lower" || name == "upper") {
    no_args();
    bool cased = false;
    for (char32_t c : utf8_decode(py_str(v))) {
      if (name == "lower" ? py_isupper(c) : py_islower(c)) return false;
      cased = cased || py_is_cased(c);
    }
    return cased;
  }
  if (name == "sameas") {
    Value other = one_arg(name, args);
    if (v.kind() != other.kind()) return false;
    if (v.is_none() || v.is_undefined()) return v.is_none() || v.identity() == other.identity();
    if (v.is_bool()) return v.as_bool() == other.as_bool();
    if (v.is_int()) return is_small_int_identity(v, other);
    return v.identity() != nullptr && v.identity() == other.identity();
  }
  if (name == "in") return contains(one_arg(name, args), v);
  if (name == "eq" || name == "equalto" || name == "==") return py_equal(v, one_arg(name, args));
  if (name == "ne" || name == "!=") return !py_equal(v, one_arg(name, args));
  if (name == "lt" || name == "lessthan" || name == "<") return py_less(v, one_arg(name, args), "<");
  if (name == "le" || name == "<=") return py_less(v, one_arg(name, args), "<=");
  if (name == "gt" || name == "greaterthan" || name == ">") return py_less(v, one_arg(name, args), ">");
  if (name == "ge" || name == ">=") return py_less(v, one_arg(name, args), ">=");
  if (name == "filter") return no_args(), v.is_string() && is_jinja_filter_name(v.as_string());
  if (name == "test") return no_args(), v.is_string() && is_jinja_test_name(v.as_string());
  throw PyError("TemplateRuntimeError: No test named '" + name + "' found.");
}

}  // namespace tessera::jinja

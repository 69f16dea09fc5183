// Python operators for the Jinja2 subset (see jinja_ops.h). Integer arithmetic is 64-bit and
// reports overflow instead of wrapping (Python ints are unbounded).
#include "chat/jinja/ops.h"

#include "chat/jinja/py_text.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

namespace tessera::jinja {

namespace {

[[noreturn]] void overflow() {
  throw PyError("OverflowError: integer result does not fit in 64 bits (the chat template engine "
                "does not support Python big integers)");
}

[[noreturn]] void unsupported_operands(std::string_view op, const Value& a, const Value& b) {
  throw_type_error("unsupported operand type(s) for " + std::string(op) + ": '" + type_name(a) +
                   "' and '" + type_name(b) + "'");
}

[[noreturn]] void zero_division(const std::string& message) {
  throw PyError("ZeroDivisionError: " + message);
}

bool is_int_like(const Value& v) { return v.is_int() || v.is_bool(); }

Value repeat_sequence(const Value& seq, int64_t n) {
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.as_string();
    return Value::string(std::move(out), seq.is_markup());
  }
  ValueList out;
  for (int64_t i = 0; i < n; ++i)
    out.insert(out.end(), seq.as_list().begin(), seq.as_list().end());
  return Value::list(std::move(out), seq.flavor());
}

bool is_repeatable(const Value& v) {
  return v.is_string() ||
         (v.is_list() && (v.flavor() == ListFlavor::kList || v.flavor() == ListFlavor::kTuple));
}

double float_floordiv(double vx, double wx) {
  // CPython _float_div_mod
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) div -= 1.0;
  }
  double floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, vx / wx);
  }
  return floordiv;
}

double float_mod(double vx, double wx) {
  double mod = std::fmod(vx, wx);
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) mod += wx;
  } else {
    mod = std::copysign(0.0, wx);
  }
  return mod;
}

}  // namespace

void fail_if_undefined(const Value& v) {
  if (v.is_undefined()) throw_undefined(v);
}

Value binary_op(std::string_view op, const Value& a, const Value& b) {
  fail_if_undefined(a);
  // str.__mod__ accepts anything on the right (even Undefined) before Python tries __rmod__.
  if (op == "%" && a.is_string()) return Value::string(percent_format(a.as_string(), b), a.is_markup());
  fail_if_undefined(b);
  bool ints = is_int_like(a) && is_int_like(b);
  bool nums = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) overflow();
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_float() + b.as_float());
    if (a.is_string() && b.is_string()) {
      // markupsafe: Markup + str escapes the plain side and stays Markup.
      if (a.is_markup() && !b.is_markup()) return Value::string(a.as_string() + html_escape(b.as_string()), true);
      if (b.is_markup() && !a.is_markup()) return Value::string(html_escape(a.as_string()) + b.as_string(), true);
      return Value::string(a.as_string() + b.as_string(), a.is_markup());
    }
    if (a.is_list() && b.is_list() && a.flavor() == b.flavor() &&
        (a.flavor() == ListFlavor::kList || a.flavor() == ListFlavor::kTuple)) {
      ValueList out = a.as_list();
      out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      return Value::list(std::move(out), a.flavor());
    }
    if (a.is_string() || (a.is_list() && (a.flavor() == ListFlavor::kList || a.flavor() == ListFlavor::kTuple)))
      throw_type_error("can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " +
                       type_name(a));
    unsupported_operands("+", a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) overflow();
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_float() - b.as_float());
    unsupported_operands("-", a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) overflow();
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_float() * b.as_float());
    if (is_repeatable(a) && is_int_like(b)) return repeat_sequence(a, b.as_int());
    if (is_repeatable(b) && is_int_like(a)) return repeat_sequence(b, a.as_int());
    if (is_repeatable(a) || is_repeatable(b)) {
      const Value& other = is_repeatable(a) ? b : a;
      throw_type_error("can't multiply sequence by non-int of type '" + type_name(other) + "'");
    }
    unsupported_operands("*", a, b);
  }
  if (op == "/") {
    if (!nums) unsupported_operands("/", a, b);
    if (b.as_float() == 0) zero_division(ints ? "division by zero" : "float division by zero");
    return Value::number(a.as_float() / b.as_float());
  }
  if (op == "//") {
    if (ints) {
      int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) zero_division("integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) overflow();
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) --q;
      return Value::integer(q);
    }
    if (!nums) unsupported_operands("//", a, b);
    if (b.as_float() == 0) zero_division("float floor division by zero");
    return Value::number(float_floordiv(a.as_float(), b.as_float()));
  }
  if (op == "%") {
    if (ints) {
      int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) zero_division("integer modulo by zero");
      if (y == -1) return Value::integer(0);
      int64_t r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return Value::integer(r);
    }
    if (!nums) unsupported_operands("%", a, b);
    if (b.as_float() == 0) zero_division("float modulo");
    return Value::number(float_mod(a.as_float(), b.as_float()));
  }
  if (op == "**") {
    if (ints && b.as_int() >= 0) {
      int64_t base = a.as_int(), exp = b.as_int(), result = 1;
      while (exp > 0) {
        if (exp & 1)
          if (__builtin_mul_overflow(result, base, &result)) overflow();
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
      }
      return Value::integer(result);
    }
    if (!nums) unsupported_operands("** or pow()", a, b);
    double x = a.as_float(), y = b.as_float();
    if (x == 0 && y < 0) zero_division("0.0 cannot be raised to a negative power");
    if (x < 0 && y != std::floor(y))
      throw PyError("unsupported: a negative number raised to a fractional power is complex in Python");
    return Value::number(std::pow(x, y));
  }
  throw PyError("unsupported operator " + std::string(op));
}

Value unary_minus(const Value& v) {
  fail_if_undefined(v);
  if (is_int_like(v)) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) overflow();
    return Value::integer(-v.as_int());
  }
  if (v.is_float()) return Value::number(-v.as_float());
  throw_type_error("bad operand type for unary -: '" + type_name(v) + "'");
}

Value unary_plus(const Value& v) {
  fail_if_undefined(v);
  if (is_int_like(v)) return Value::integer(v.as_int());
  if (v.is_float()) return v;
  throw_type_error("bad operand type for unary +: '" + type_name(v) + "'");
}

bool contains(const Value& container, const Value& item) {
  using K = Value::Kind;
  switch (container.kind()) {
    case K::kUndefined: return false;
    case K::kString:
      if (!item.is_string())
        throw_type_error("'in <string>' requires string as left operand, not " + type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case K::kList:
      for (const auto& x : container.as_list())
        if (py_equal(x, item)) return true;
      return false;
    case K::kDict:
      check_hashable(item);
      return container.as_dict().find(item) != nullptr;
    case K::kIterator: {
      Iterator& it = container.as_iterator();
      while (it.pos < it.items.size())
        if (py_equal(it.items[it.pos++], item)) return true;
      return false;
    }
    default:
      throw_type_error("argument of type '" + type_name(container) + "' is not iterable");
  }
}

// ---- printf-style formatting ----------------------------------------------------------------

namespace {

std::string pad(std::string body, size_t width, char align, char32_t fill) {
  size_t len = utf8_length(body);
  if (len >= width) return body;
  size_t total = width - len;
  std::string fill_str;
  append_utf8(fill_str, fill);
  auto repeat = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += fill_str;
    return s;
  };
  if (align == '<') return body + repeat(total);
  if (align == '^') return repeat(total / 2) + body + repeat(total - total / 2);
  return repeat(total) + body;
}

std::string truncate_code_points(const std::string& s, int64_t n) {
  std::u32string cps = utf8_decode(s);
  if (static_cast<int64_t>(cps.size()) <= n) return s;
  return utf8_encode(std::u32string_view(cps).substr(0, static_cast<size_t>(n)));
}

double to_real(const Value& v, char conv) {
  if (v.is_number()) return v.as_float();
  throw_type_error(std::string("must be real number, not ") + type_name(v) + " (%" + conv + " format)");
}

int64_t to_integer(const Value& v, char conv) {
  if (is_int_like(v)) return v.as_int();
  if (v.is_float()) return static_cast<int64_t>(v.as_float());
  throw_type_error(std::string("%") + conv + " format: a real number is required, not " + type_name(v));
}

// One conversion with C printf semantics for the numeric part.
std::string format_one(const Value& v, char conv, const std::string& flags, int width, int precision) {
  std::string spec = "%" + flags;
  if (width >= 0) spec += std::to_string(width);
  if (precision >= 0) spec += "." + std::to_string(precision);
  char buf[512];
  switch (conv) {
    case 's':
    case 'r':
    case 'a': {
      std::string s = conv == 's' ? py_str(v) : py_repr(v);
      if (precision >= 0) s = truncate_code_points(s, precision);
      if (width >= 0) s = pad(s, static_cast<size_t>(width), flags.find('-') != std::string::npos ? '<' : '>', ' ');
      return s;
    }
    case 'd':
    case 'i':
    case 'u': {
      spec += "lld";
      std::snprintf(buf, sizeof(buf), spec.c_str(), static_cast<long long>(to_integer(v, conv)));
      return buf;
    }
    case 'o':
    case 'x':
    case 'X': {
      int64_t n = to_integer(v, conv);
      std::string f = spec + "ll" + conv;
      // Python prints the sign of negative hex/octal numbers instead of two's complement.
      std::snprintf(buf, sizeof(buf), f.c_str(), static_cast<unsigned long long>(n < 0 ? -n : n));
      std::string s = buf;
      if (n < 0) {
        size_t first = s.find_first_not_of(' ');
        s.insert(first == std::string::npos ? 0 : first, "-");
        if (width >= 0 && s.size() > static_cast<size_t>(width) && s[0] == ' ') s.erase(0, 1);
      }
      if (conv == 'o' && flags.find('#') != std::string::npos) {  // Python uses 0o, C uses 0
        size_t z = s.find('0');
        if (z != std::string::npos) s.insert(z + 1, "o");
      }
      return s;
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      spec += conv;
      std::snprintf(buf, sizeof(buf), spec.c_str(), to_real(v, conv));
      return buf;
    }
    case 'c': {
      std::string s;
      if (v.is_string() && utf8_length(v.as_string()) == 1) s = v.as_string();
      else if (is_int_like(v)) append_utf8(s, static_cast<char32_t>(v.as_int()));
      else throw_type_error("%c requires int or char");
      if (width >= 0) s = pad(s, static_cast<size_t>(width), flags.find('-') != std::string::npos ? '<' : '>', ' ');
      return s;
    }
    default:
      throw_value_error(std::string("unsupported format character '") + conv + "'");
  }
}

}  // namespace

std::string percent_format(const std::string& fmt, const Value& args) {
  ValueList positional;
  const Dict* mapping = nullptr;
  // CPython treats any non-tuple, non-str argument with __getitem__ as a mapping; then unused
  // arguments are not an error.
  bool mapping_like = false;
  if (args.is_list() && args.flavor() == ListFlavor::kTuple) {
    positional = args.as_list();
  } else {
    positional.push_back(args);
    if (args.is_dict()) mapping = &args.as_dict();
    mapping_like = args.is_dict() || args.is_undefined() ||
                   (args.is_list() && (args.flavor() == ListFlavor::kList || args.flavor() == ListFlavor::kRange));
  }
  size_t next_arg = 0;
  bool used_mapping = false;
  auto take = [&]() -> Value {
    if (next_arg >= positional.size()) throw_type_error("not enough arguments for format string");
    return positional[next_arg++];
  };
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) throw_value_error("incomplete format");
    std::optional<Value> keyed;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) throw_value_error("incomplete format key");
      if (args.is_undefined()) throw_undefined(args);
      if (!mapping && mapping_like) throw_type_error(type_name(args) + " indices must be integers or slices, not str");
      if (!mapping) throw_type_error("format requires a mapping");
      const Value* v = mapping->find(std::string_view(fmt).substr(i + 1, close - i - 1));
      if (!v) throw PyError("KeyError: " + py_repr_string(fmt.substr(i + 1, close - i - 1)));
      keyed = *v;
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) flags += fmt[i++];
    int width = -1, precision = -1;
    if (i < fmt.size() && fmt[i] == '*') {
      width = static_cast<int>(to_integer(take(), '*'));
      ++i;
    } else {
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') width = std::max(width, 0) * 10 + (fmt[i++] - '0');
    }
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      precision = 0;
      if (i < fmt.size() && fmt[i] == '*') {
        precision = static_cast<int>(to_integer(take(), '*'));
        ++i;
      } else {
        while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') precision = precision * 10 + (fmt[i++] - '0');
      }
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) throw_value_error("incomplete format");
    char conv = fmt[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    out += format_one(keyed ? *keyed : take(), conv, flags, width, precision);
  }
  if (!used_mapping && !mapping_like && next_arg < positional.size())
    throw_type_error("not all arguments converted during string formatting");
  return out;
}

// ---- str.format ---------------------------------------------------------------------------

std::string format_value(const Value& v, std::string_view spec) {
  if (spec.empty()) return py_str(v);
  // [[fill]align][sign][#][0][width][,|_][.precision][type]
  std::u32string s = utf8_decode(spec);
  size_t i = 0;
  char32_t fill = ' ';
  char align = 0;
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) {
    fill = s[0];
    align = static_cast<char>(s[1]);
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    align = static_cast<char>(s[0]);
    i = 1;
  }
  char sign = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sign = static_cast<char>(s[i++]);
  bool alt = false;
  if (i < s.size() && s[i] == '#') {
    alt = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    if (!align) {
      fill = '0';
      align = '=';
    }
    ++i;
  }
  int width = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') width = width * 10 + static_cast<int>(s[i++] - '0');
  char grouping = 0;
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) grouping = static_cast<char>(s[i++]);
  int precision = -1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    precision = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') precision = precision * 10 + static_cast<int>(s[i++] - '0');
  }
  char type = 0;
  if (i < s.size()) type = static_cast<char>(s[i++]);
  if (i != s.size()) throw_value_error("Invalid format specifier");
  if (grouping || alt) throw PyError("unsupported: format spec '" + std::string(spec) + "' (grouping or '#')");

  std::string body;
  bool numeric = false;
  if (v.is_string()) {
    if (type && type != 's') throw_value_error(std::string("Unknown format code '") + type + "' for object of type 'str'");
    body = v.as_string();
    if (precision >= 0) body = truncate_code_points(body, precision);
    if (!align) align = '<';
  } else if (v.is_number()) {
    numeric = true;
    bool as_int = !v.is_float() && (type == 0 || type == 'd' || type == 'b' || type == 'o' ||
                                     type == 'x' || type == 'X' || type == 'c' || type == 'n');
    std::string sign_flag = sign == '+' ? "+" : sign == ' ' ? " " : "";
    char buf[512];
    if (as_int) {
      if (precision >= 0) throw_value_error("Precision not allowed in integer format specifier");
      int64_t n = v.as_int();
      if (type == 'x' || type == 'X' || type == 'o' || type == 'b') {
        uint64_t mag = n < 0 ? static_cast<uint64_t>(-n) : static_cast<uint64_t>(n);
        int base = type == 'o' ? 8 : type == 'b' ? 2 : 16;
        const char* digits = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        std::string d;
        do {
          d.insert(d.begin(), digits[mag % static_cast<uint64_t>(base)]);
          mag /= static_cast<uint64_t>(base);
        } while (mag);
        body = (n < 0 ? "-" : sign_flag) + d;
      } else if (type == 'c') {
        append_utf8(body, static_cast<char32_t>(n));
        numeric = false;
      } else {
        body = (n >= 0 ? sign_flag : "") + std::to_string(n);
      }
    } else {
      double x = v.as_float();
      if (type == 0 && precision < 0) {
        body = py_float_repr(x);
        if (x >= 0 && !std::signbit(x)) body = sign_flag + body;
      } else {
        char t = type == 0 ? 'g' : type == 'n' ? 'g' : type;
        double shown = x;
        std::string suffix;
        if (t == '%') {
          shown = x * 100;
          t = 'f';
          suffix = "%";
        }
        std::string f = "%" + sign_flag + "." + std::to_string(precision < 0 ? 6 : precision) + t;
        std::snprintf(buf, sizeof(buf), f.c_str(), shown);
        body = buf;
        if (type == 0 && body.find_first_of(".e") == std::string::npos && std::isfinite(x)) body += ".0";
        body += suffix;
      }
    }
    if (!align) align = '>';
  } else {
    throw_type_error("unsupported format string passed to " + type_name(v) + ".__format__");
  }
  if (align == '=' && numeric) {
    size_t sign_len = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    std::string head = body.substr(0, sign_len);
    std::string rest = body.substr(sign_len);
    return head + pad(rest, static_cast<size_t>(std::max(0, width - static_cast<int>(sign_len))), '>', fill);
  }
  return pad(body, static_cast<size_t>(width), align == '=' ? '>' : align, fill);
}

std::string str_format(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      throw_value_error("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t close = fmt.find('}', i);
    if (close == std::string::npos) throw_value_error("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    if (field.find('{') != std::string::npos)
      throw PyError("unsupported: nested replacement fields in str.format()");
    i = close;
    std::string spec, conversion;
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    size_t bang = field.find('!');
    if (bang != std::string::npos) {
      conversion = field.substr(bang + 1);
      field.resize(bang);
    }
    if (field.find_first_of(".[") != std::string::npos)
      throw PyError("unsupported: attribute or index lookups inside str.format() fields");
    Value v;
    if (field.empty() || std::isdigit(static_cast<unsigned char>(field[0]))) {
      if (field.size() > 9) throw_value_error("Too many decimal digits in format string");
      size_t index = field.empty() ? auto_index++ : static_cast<size_t>(std::strtoul(field.c_str(), nullptr, 10));
      if (index >= args.positional.size())
        throw PyError("IndexError: Replacement index " + std::to_string(index) + " out of range for positional args tuple");
      v = args.positional[index];
    } else {
      bool found = false;
      for (const auto& [k, kv] : args.keywords) {
        if (k == field) {
          v = kv;
          found = true;
        }
      }
      if (!found) throw PyError("KeyError: " + py_repr_string(field));
    }
    if (conversion == "r" || conversion == "a") v = Value::string(py_repr(v));
    else if (conversion == "s") v = Value::string(py_str(v));
    else if (!conversion.empty()) throw_value_error("Unknown conversion specifier " + conversion);
    out += format_value(v, spec);
  }
  return out;
}

}  // namespace tessera::jinja

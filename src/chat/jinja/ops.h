// Python operators on template values: arithmetic (+ - * / // % **), unary +/-, `in`,
// printf-style `str % args` and str.format(). Errors carry CPython's wording.
#pragma once

#include "chat/jinja/value.h"

#include <string>
#include <string_view>

namespace tessera::jinja {

// op is one of "+", "-", "*", "/", "//", "%", "**".
Value binary_op(std::string_view op, const Value& a, const Value& b);
Value unary_minus(const Value& v);
Value unary_plus(const Value& v);
// `item in container`.
bool contains(const Value& container, const Value& item);
// Throws UndefinedError if v is Undefined (used where Python calls an Undefined dunder).
void fail_if_undefined(const Value& v);

// "fmt" % args (args: a tuple for several values, a dict for %(name)s).
std::string percent_format(const std::string& fmt, const Value& args);
// "fmt".format(*positional, **keywords).
std::string str_format(const std::string& fmt, const CallArgs& args);
// format(value, spec): the mini-language of str.format fields.
std::string format_value(const Value& v, std::string_view spec);

}  // namespace tessera::jinja

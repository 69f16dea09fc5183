// Jinja2's builtin filters and tests (jinja2/filters.py, jinja2/tests.py), with HF's `tojson`
// override. Filters that return generators in Jinja2 (map, select, reject, selectattr,
// rejectattr, unique, batch, slice, items, reverse) return one-shot iterators here too, so
// `x|map(...)|length` fails exactly where Jinja2 fails. Filters Jinja2 has but this engine does
// not implement raise "unsupported" instead of rendering something different.
#pragma once

#include "chat/jinja/value.h"

#include <string>

namespace tessera::jinja {

Value apply_filter(const std::string& name, const Value& input, const CallArgs& args);
bool apply_test(const std::string& name, const Value& input, const CallArgs& args);

}  // namespace tessera::jinja

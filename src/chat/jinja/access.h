// Attribute and item access under Jinja2's ImmutableSandboxedEnvironment:
//   x.name    tries the Python attribute (a method such as str.strip or dict.items) first,
//             then x['name'];
//   x[key]    tries x[key] first, then (for string keys) the Python attribute.
// A miss gives Undefined, not an error; only touching an Undefined's attribute raises.
// Methods that would mutate a list or dict (append, pop, update, ...) come back as an
// Undefined that raises SecurityError when called, as in the sandbox.
#pragma once

#include "chat/jinja/value.h"

#include <optional>
#include <string>

namespace tessera::jinja {

Value get_attr(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);
// Python's getattr(obj, name) only (no item fallback), for the `attr` filter; nullopt when
// Python has no such attribute.
std::optional<Value> get_python_attribute(const Value& obj, const std::string& name);
// obj[start:stop:step]; each bound may be None.
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

}  // namespace tessera::jinja

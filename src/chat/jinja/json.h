// json.dumps() for template values, as HF transformers' `tojson` filter calls it:
//   json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
// Python's defaults matter: separators are (', ', ': ') without indent and (',', ': ') with it,
// so tools render as {"type": "function", ...} with spaces. Key order is insertion order.
#pragma once

#include "chat/jinja/value.h"

#include <optional>
#include <string>

namespace tessera::jinja {

struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // already expanded: int n -> n spaces
  std::optional<std::string> item_separator;
  std::optional<std::string> key_separator;
  bool sort_keys = false;
};

// Throws TypeError for values JSON cannot hold (Undefined, namespaces, iterators, ...).
std::string json_dumps(const Value& value, const JsonDumpOptions& options);

}  // namespace tessera::jinja

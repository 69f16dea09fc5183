// Renders a parsed Jinja2 Program. Scoping follows Jinja2's compiled frames: `if` shares its
// enclosing scope; each for-loop iteration, macro call, `with`, and set/filter block body gets
// a fresh child scope, so `{% set %}` inside a loop does not leak out (namespace() does).
// Macros see their defining scope at call time (Python closures are late-binding).
//
// Globals, as HF's apply_chat_template environment provides them: range, dict, namespace,
// joiner, raise_exception(message), strftime_now(format).
#pragma once

#include "chat/jinja_ast.h"

#include <string>

namespace tessera::jinja {

// Throws tessera::Error with the template line: "chat template error at line N: TypeError: ..."
// or, for raise_exception(msg), "chat template raised an exception at line N: TemplateError: msg".
std::string render_program(const Program& program, const Dict& variables);

}  // namespace tessera::jinja

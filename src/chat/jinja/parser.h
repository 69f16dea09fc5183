// Jinja2 parser: tokens -> Program. A port of jinja2/parser.py (3.1) restricted to the
// statements chat templates use; anything else (extends, include, import, block, autoescape,
// recursive loops) is rejected with an error naming the construct and its line.
#pragma once

#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"

#include <memory>
#include <string_view>

namespace tessera::jinja {

// Throws tessera::Error ("chat template syntax error at line N: ...").
std::shared_ptr<const Program> parse_template(std::string_view source, const LexerOptions& options);

// Names Jinja2 3.1 knows; the parser uses them to reject unknown filters/tests up front
// (Jinja does the same at compile time outside `if` bodies).
bool is_jinja_filter_name(std::string_view name);
bool is_jinja_test_name(std::string_view name);

}  // namespace tessera::jinja

// Jinja2 lexer: template text -> tokens. Mirrors jinja2/lexer.py (3.1) rule for rule, because
// the whitespace a chat template emits depends on exactly how `{%-`, `-%}`, trim_blocks and
// lstrip_blocks eat the text around tags.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::jinja {

enum class TokenType {
  kData,        // literal template text (after whitespace control)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // value already unescaped
  kInteger,
  kFloat,
  kOperator,    // text holds the operator: "+", "//", "(", ...
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
};

// The Environment options the lexer depends on. HF's apply_chat_template uses
// trim_blocks=True, lstrip_blocks=True and Jinja's default keep_trailing_newline=False.
struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws tessera::Error ("chat template syntax error at line N: ...") on malformed input.
std::vector<Token> tokenize(std::string_view source, const LexerOptions& options);

// Describes a token for error messages the way Jinja does ("end of print statement", "'x'").
std::string describe_token(const Token& token);

}  // namespace tessera::jinja

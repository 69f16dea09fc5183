// Jinja2 lexer (see jinja_lexer.h). The root rule of jinja2/lexer.py is
//   (.*?)(?:raw_begin | {#[-+]? | {%[-+]? | {{[-+]?)
// and the text before a tag is trimmed by the tag's sign: '-' strips all trailing whitespace,
// no sign with lstrip_blocks strips the whitespace back to the line start, for {% and {# only.
// Block/comment ends are  +%} | -%}\s* | %}\n?  (the \n? only with trim_blocks).
#include "chat/jinja/lexer.h"

#include "chat/jinja/py_text.h"
#include "util/error.h"

#include <cerrno>
#include <cstdlib>
#include <utf8proc.h>

namespace tessera::jinja {

namespace {

class Lexer {
 public:
  Lexer(std::string source, const LexerOptions& options) : src_(std::move(source)), opt_(options) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) lex_root();
    push(TokenType::kEof, "", pos_);
    return std::move(tokens_);
  }

 private:
  std::string src_;
  LexerOptions opt_;
  size_t pos_ = 0;
  bool line_starting_ = true;  // did the previous match end with '\n'?
  std::vector<Token> tokens_;
  size_t line_pos_ = 0;  // incremental line counting
  int line_ = 1;

  int line_at(size_t pos) {
    if (pos < line_pos_) {  // never happens in practice; recount
      line_pos_ = 0;
      line_ = 1;
    }
    for (; line_pos_ < pos && line_pos_ < src_.size(); ++line_pos_)
      if (src_[line_pos_] == '\n') ++line_;
    return line_;
  }

  [[noreturn]] void error(const std::string& message, size_t pos) {
    fail("chat template syntax error at line {}: {}", line_at(pos), message);
  }

  Token& push(TokenType type, std::string text, size_t pos) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.line = line_at(pos);
    tokens_.push_back(std::move(t));
    return tokens_.back();
  }

  // Byte length of the Python-whitespace code point at `pos`, or 0.
  size_t space_at(size_t pos) const {
    if (pos >= src_.size()) return 0;
    auto c = static_cast<unsigned char>(src_[pos]);
    if (c < 0x80) return py_isspace(c) ? 1 : 0;
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(src_.data() + pos),
                              static_cast<utf8proc_ssize_t>(src_.size() - pos), &cp);
    if (n <= 0) return 0;
    return py_isspace(static_cast<char32_t>(cp)) ? static_cast<size_t>(n) : 0;
  }
  size_t skip_space(size_t pos) const {
    while (size_t n = space_at(pos)) pos += n;
    return pos;
  }
  bool starts_with(size_t pos, std::string_view s) const {
    return src_.compare(pos, s.size(), s) == 0;
  }

  // Text before a tag, trimmed per OptionalLStrip in jinja2/lexer.py.
  std::string strip_before_tag(std::string text, char sign, bool is_variable) const {
    if (sign == '-') return py_strip(text, std::nullopt, false, true);
    if (sign != '+' && opt_.lstrip_blocks && !is_variable) {
      size_t l_pos = text.rfind('\n');
      l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
      if ((l_pos > 0 || line_starting_) && l_pos < text.size()) {
        bool all_space = true;
        for (char32_t cp : utf8_decode(std::string_view(text).substr(l_pos)))
          all_space = all_space && py_isspace(cp);
        if (all_space) text.resize(l_pos);
      }
    }
    return text;
  }

  // Matches  +END | -END\s* | END\n?  at pos (END = "%}" or "#}"); returns the end or npos.
  size_t match_block_end(size_t pos, std::string_view end) const {
    if (src_[pos] == '+' && starts_with(pos + 1, end)) return pos + 1 + end.size();
    if (src_[pos] == '-' && starts_with(pos + 1, end)) return skip_space(pos + 1 + end.size());
    if (starts_with(pos, end)) {
      size_t p = pos + end.size();
      if (opt_.trim_blocks && p < src_.size() && src_[p] == '\n') ++p;
      return p;
    }
    return std::string::npos;
  }

  // {%[-+]?\s*raw\s*(-%}\s*|%})  at pos; returns the end or npos.
  size_t match_raw_begin(size_t pos) const {
    size_t p = pos + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = skip_space(p);
    if (!starts_with(p, "raw")) return std::string::npos;
    p = skip_space(p + 3);
    if (starts_with(p, "-%}")) return skip_space(p + 3);
    if (starts_with(p, "%}")) return p + 2;
    return std::string::npos;
  }

  void lex_root() {
    size_t tag = pos_;
    while (true) {
      tag = src_.find('{', tag);
      if (tag == std::string::npos || tag + 1 >= src_.size()) {
        tag = std::string::npos;
        break;
      }
      char k = src_[tag + 1];
      if (k == '{' || k == '%' || k == '#') break;
      ++tag;
    }
    if (tag == std::string::npos) {  // the rest is data
      push(TokenType::kData, src_.substr(pos_), pos_);
      pos_ = src_.size();
      return;
    }
    char kind = src_[tag + 1];
    char sign = (tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+')) ? src_[tag + 2] : 0;
    size_t raw_end = kind == '%' ? match_raw_begin(tag) : std::string::npos;
    std::string text = strip_before_tag(src_.substr(pos_, tag - pos_), sign, kind == '{');
    if (!text.empty()) push(TokenType::kData, std::move(text), pos_);
    if (raw_end != std::string::npos) {
      line_starting_ = src_[raw_end - 1] == '\n';
      pos_ = raw_end;
      lex_raw_body(tag);
      return;
    }
    pos_ = tag + 2 + (sign ? 1 : 0);
    line_starting_ = false;
    if (kind == '#') {
      lex_comment(tag);
    } else {
      push(kind == '%' ? TokenType::kBlockBegin : TokenType::kVarBegin, "", tag);
      lex_tag(kind == '%');
    }
  }

  void lex_raw_body(size_t begin) {
    // (.*?)({%[-+]?\s*endraw\s*(+%}|-%}\s*|%}\n?))
    size_t p = pos_;
    while (true) {
      p = src_.find("{%", p);
      if (p == std::string::npos) error("Missing end of raw directive", begin);
      size_t q = p + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      q = skip_space(q);
      if (starts_with(q, "endraw")) {
        q = skip_space(q + 6);
        size_t end = q < src_.size() ? match_block_end(q, "%}") : std::string::npos;
        if (end != std::string::npos) {
          std::string text = strip_before_tag(src_.substr(pos_, p - pos_), sign, false);
          if (!text.empty()) push(TokenType::kData, std::move(text), pos_);
          pos_ = end;
          line_starting_ = src_[end - 1] == '\n';
          return;
        }
      }
      p += 2;
    }
  }

  void lex_comment(size_t begin) {
    size_t k = src_.find("#}", pos_);
    if (k == std::string::npos) error("Missing end of comment tag", begin);
    size_t end;
    if (k > pos_ && src_[k - 1] == '+')
      end = k + 2;
    else if (k > pos_ && src_[k - 1] == '-')
      end = skip_space(k + 2);
    else
      end = match_block_end(k, "#}");
    pos_ = end;
    line_starting_ = src_[end - 1] == '\n';
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  // Byte length of the identifier character at pos (Python's XID_Start/XID_Continue, by
  // Unicode category), or 0.
  size_t identifier_char_at(size_t pos, bool start) const {
    if (pos >= src_.size()) return 0;
    auto c = static_cast<unsigned char>(src_[pos]);
    if (c < 0x80) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!start && is_digit(static_cast<char>(c)));
      return ok ? 1 : 0;
    }
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(src_.data() + pos),
                              static_cast<utf8proc_ssize_t>(src_.size() - pos), &cp);
    if (n <= 0) return 0;
    // Other_ID_Start / Other_ID_Continue, which Python adds to the category rules.
    if (cp == 0x1885 || cp == 0x1886 || cp == 0x2118 || cp == 0x212E || cp == 0x309B || cp == 0x309C)
      return static_cast<size_t>(n);
    if (cp == 0xB7 || cp == 0x387 || (cp >= 0x1369 && cp <= 0x1371) || cp == 0x19DA)
      return start ? 0 : static_cast<size_t>(n);
    switch (utf8proc_category(cp)) {
      case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
      case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
        return static_cast<size_t>(n);
      case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ND:
      case UTF8PROC_CATEGORY_PC:
        return start ? 0 : static_cast<size_t>(n);
      default:
        return 0;
    }
  }

  // (\d+_)*\d+ at p; returns its end or npos.
  size_t match_digits(size_t p) const {
    if (p >= src_.size() || !is_digit(src_[p])) return std::string::npos;
    while (p < src_.size() && is_digit(src_[p])) ++p;
    while (p + 1 < src_.size() && src_[p] == '_' && is_digit(src_[p + 1])) {
      ++p;
      while (p < src_.size() && is_digit(src_[p])) ++p;
    }
    return p;
  }

  size_t match_float(size_t pos) const {
    if (pos > 0 && src_[pos - 1] == '.') return std::string::npos;
    size_t p = match_digits(pos);
    if (p == std::string::npos) return p;
    auto exponent = [&](size_t q) -> size_t {
      if (q >= src_.size() || (src_[q] != 'e' && src_[q] != 'E')) return std::string::npos;
      ++q;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      return match_digits(q);
    };
    size_t frac = (p < src_.size() && src_[p] == '.') ? match_digits(p + 1) : std::string::npos;
    if (frac != std::string::npos) {
      size_t e = exponent(frac);
      return e != std::string::npos ? e : frac;
    }
    return exponent(p);
  }

  size_t match_integer(size_t pos) const {
    auto lower = [](char c) { return static_cast<char>(c | 0x20); };
    if (src_[pos] == '0' && pos + 1 < src_.size()) {
      char b = lower(src_[pos + 1]);
      auto ok = [&](char c) {
        c = lower(c);
        if (b == 'b') return c == '0' || c == '1';
        if (b == 'o') return c >= '0' && c <= '7';
        return is_digit(c) || (c >= 'a' && c <= 'f');
      };
      if (b == 'b' || b == 'o' || b == 'x') {
        size_t p = pos + 2;
        size_t good = std::string::npos;
        while (p < src_.size()) {
          if (src_[p] == '_' && p + 1 < src_.size() && ok(src_[p + 1])) p += 2;
          else if (ok(src_[p])) p += 1;
          else break;
          good = p;
        }
        if (good != std::string::npos) return good;
      }
    }
    if (!is_digit(src_[pos])) return std::string::npos;
    char first = src_[pos];
    size_t p = pos + 1;
    while (p < src_.size()) {
      size_t q = p;
      if (src_[q] == '_') ++q;
      if (q < src_.size() && (first == '0' ? src_[q] == '0' : is_digit(src_[q]))) p = q + 1;
      else break;
    }
    return p;
  }

  std::string decode_string(std::string_view body, size_t pos) {
    // Python's  .encode('ascii', 'backslashreplace').decode('unicode-escape')
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c != '\\' || i + 1 >= body.size()) {
        out += c;
        continue;
      }
      char e = body[++i];
      auto hex = [&](int digits) -> char32_t {
        char32_t v = 0;
        for (int d = 0; d < digits; ++d) {
          if (i + 1 >= body.size()) error("truncated escape in string literal", pos);
          char h = body[++i];
          int x = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                                        : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
          if (x < 0) error("truncated escape in string literal", pos);
          v = v * 16 + static_cast<char32_t>(x);
        }
        return v;
      };
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': append_utf8(out, hex(2)); break;
        case 'u': append_utf8(out, hex(4)); break;
        case 'U': {
          char32_t v = hex(8);
          if (v > 0x10FFFF) error("illegal Unicode character in string literal", pos);
          append_utf8(out, v);
          break;
        }
        case 'N': error("unsupported: \\N{...} escapes in string literals", pos);
        default:
          if (e >= '0' && e <= '7') {
            char32_t v = static_cast<char32_t>(e - '0');
            for (int d = 0; d < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++d)
              v = v * 8 + static_cast<char32_t>(body[++i] - '0');
            append_utf8(out, v);
          } else {  // unknown escapes are kept verbatim
            out += '\\';
            out += e;
          }
      }
    }
    return out;
  }

  // Tokens inside {% ... %} or {{ ... }} until the matching end tag.
  void lex_tag(bool is_block) {
    std::vector<char> balance;
    static const char* kOps2[] = {"//", "**", "==", "!=", ">=", "<="};
    static const std::string_view kOps1 = "+-/*%~[](){}<>=.:|,;";
    while (true) {
      if (pos_ >= src_.size()) return;  // the parser reports the missing end tag
      if (balance.empty()) {
        size_t end = std::string::npos;
        if (is_block) {
          end = match_block_end(pos_, "%}");
        } else if (starts_with(pos_, "-}}")) {
          end = skip_space(pos_ + 3);
        } else if (starts_with(pos_, "}}")) {
          end = pos_ + 2;
        }
        if (end != std::string::npos) {
          push(is_block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", pos_);
          pos_ = end;
          line_starting_ = src_[end - 1] == '\n';
          return;
        }
      }
      if (size_t ws = space_at(pos_)) {
        pos_ = skip_space(pos_ + ws);
        continue;
      }
      size_t p;
      if ((p = match_float(pos_)) != std::string::npos) {
        std::string text;
        for (size_t i = pos_; i < p; ++i)
          if (src_[i] != '_') text += src_[i];
        push(TokenType::kFloat, text, pos_).float_value = std::strtod(text.c_str(), nullptr);
        pos_ = p;
        continue;
      }
      if ((p = match_integer(pos_)) != std::string::npos) {
        std::string text;
        for (size_t i = pos_; i < p; ++i)
          if (src_[i] != '_') text += src_[i];
        int base = 10;
        std::string digits = text;
        if (text.size() > 1 && text[0] == '0' && (text[1] | 0x20) != '0' && !is_digit(text[1])) {
          char b = static_cast<char>(text[1] | 0x20);
          base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
          digits = text.substr(2);
        }
        errno = 0;
        char* endp = nullptr;
        long long v = std::strtoll(digits.c_str(), &endp, base);
        if (errno == ERANGE) error("integer literal " + text + " does not fit in 64 bits", pos_);
        push(TokenType::kInteger, text, pos_).int_value = v;
        pos_ = p;
        continue;
      }
      if (identifier_char_at(pos_, true)) {
        p = pos_;
        while (size_t n = identifier_char_at(p, false)) p += n;
        push(TokenType::kName, src_.substr(pos_, p - pos_), pos_);
        pos_ = p;
        continue;
      }
      char c = src_[pos_];
      if (c == '\'' || c == '"') {
        p = pos_ + 1;
        while (p < src_.size() && src_[p] != c) p += src_[p] == '\\' ? 2 : 1;
        if (p >= src_.size()) error(std::string("unexpected char '") + c + "' (unterminated string)", pos_);
        std::string body = src_.substr(pos_ + 1, p - pos_ - 1);
        push(TokenType::kString, decode_string(body, pos_), pos_);
        pos_ = p + 1;
        continue;
      }
      std::string op;
      for (const char* two : kOps2)
        if (starts_with(pos_, two)) op = two;
      if (op.empty() && kOps1.find(c) != std::string_view::npos) op = std::string(1, c);
      if (op.empty()) error(std::string("unexpected char '") + c + "'", pos_);
      if (op == "{" || op == "(" || op == "[") {
        balance.push_back(op == "{" ? '}' : op == "(" ? ')' : ']');
      } else if (op == "}" || op == ")" || op == "]") {
        if (balance.empty()) error("unexpected '" + op + "'", pos_);
        char expected = balance.back();
        balance.pop_back();
        if (expected != op[0])
          error("unexpected '" + op + "', expected '" + std::string(1, expected) + "'", pos_);
      }
      push(TokenType::kOperator, op, pos_);
      pos_ += op.size();
    }
  }
};

std::string normalize_newlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexerOptions& options) {
  // Python reads templates as str; bytes that are not UTF-8 never reach Jinja.
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(source.data());
  int line = 1;
  for (size_t pos = 0; pos < source.size();) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(bytes + pos, static_cast<utf8proc_ssize_t>(source.size() - pos), &cp);
    if (n <= 0) fail("chat template syntax error at line {}: the template is not valid UTF-8 (byte {})", line, pos);
    if (cp == '\n') ++line;
    pos += static_cast<size_t>(n);
  }
  return Lexer(normalize_newlines(source, options.keep_trailing_newline), options).run();
}

std::string describe_token(const Token& token) {
  switch (token.type) {
    case TokenType::kData: return "template data / text";
    case TokenType::kVarBegin: return "begin of print statement";
    case TokenType::kVarEnd: return "end of print statement";
    case TokenType::kBlockBegin: return "begin of statement block";
    case TokenType::kBlockEnd: return "end of statement block";
    case TokenType::kName: return token.text;
    case TokenType::kString: return "string";
    case TokenType::kInteger: return "integer";
    case TokenType::kFloat: return "float";
    case TokenType::kOperator: return token.text;
    case TokenType::kEof: return "end of template";
  }
  return "token";
}

}  // namespace tessera::jinja

#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include <memory>

#include "util/error.h"

namespace tessera {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* p) const { pcre2_match_data_free(p); }
};
struct MatchContextDeleter {
  void operator()(pcre2_match_context* p) const { pcre2_match_context_free(p); }
};
struct JitStackDeleter {
  void operator()(pcre2_jit_stack* p) const { pcre2_jit_stack_free(p); }
};

// HF tokenizers matches with Oniguruma, whose Unicode \s is White_Space: \t-\r, U+0085 and
// the Z categories. PCRE2's \s (with UCP) also matches U+180E MONGOLIAN VOWEL SEPARATOR, which
// Unicode 6.3 moved to Cf. Spell \s out so both engines split "!\u180E!" the same way.
// \S inside a class cannot be spelled out and is left as is (only U+180E differs there).
constexpr std::string_view kOnigSpace = R"(\t-\r\x{20}\x{85}\p{Z})";

std::string with_onig_space_class(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 32);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') {
        out += in_class ? std::string(kOnigSpace) : "[" + std::string(kOnigSpace) + "]";
      } else if (next == 'S' && !in_class) {
        out += "[^" + std::string(kOnigSpace) + "]";
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    out += c;
    if (!in_class && c == '[') {
      in_class = true;
      // A ']' first in the class (after an optional '^') is a literal.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
    } else if (in_class && c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      const size_t end = pattern.find(":]", i + 2);  // POSIX class such as [:alpha:]
      if (end != std::string_view::npos) {
        out.append(pattern.substr(i + 1, end + 2 - (i + 1)));
        i = end + 1;
      }
    } else if (in_class && c == ']') {
      in_class = false;
    }
  }
  return out;
}

size_t utf8_char_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

}  // namespace

Regex::Regex(std::string_view pattern, std::string_view where, bool literal) : where_(where) {
  // PCRE2_LITERAL refuses PCRE2_UCP (it has no classes for UCP to affect).
  const uint32_t options = literal ? (PCRE2_UTF | PCRE2_LITERAL) : (PCRE2_UTF | PCRE2_UCP);
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  if (!literal) {
    // Compile the given pattern first so that errors point into the text the user wrote.
    pcre2_code* check = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                                      pattern.size(), options, &error, &error_offset, nullptr);
    if (check == nullptr) {
      fail("{}: cannot compile regex at offset {}: {} (pattern: {})", where_, error_offset,
           pcre2_message(error), pattern);
    }
    pcre2_code_free(check);
  }
  const std::string compiled = literal ? std::string(pattern) : with_onig_space_class(pattern);
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(), options,
                        &error, &error_offset, nullptr);
  if (code_ == nullptr) {
    fail("{}: cannot compile regex at offset {}: {} (pattern: {})", where_, error_offset,
         pcre2_message(error), compiled);
  }
  // JIT makes pre-tokenization several times faster; fall back to the interpreter without it.
  jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() {
  if (code_ != nullptr) pcre2_code_free(code_);
}

Regex::Regex(Regex&& other) noexcept
    : code_(other.code_), jit_(other.jit_), where_(std::move(other.where_)) {
  other.code_ = nullptr;
}

Regex& Regex::operator=(Regex&& other) noexcept {
  if (this != &other) {
    if (code_ != nullptr) pcre2_code_free(code_);
    code_ = other.code_;
    jit_ = other.jit_;
    where_ = std::move(other.where_);
    other.code_ = nullptr;
  }
  return *this;
}

void Regex::find_all(std::string_view text, std::vector<MatchSpan>& out) const {
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(
      pcre2_match_data_create_from_pattern(code_, nullptr));
  // Created only if the default 32 KiB JIT stack overflows (very long backtracking runs).
  std::unique_ptr<pcre2_match_context, MatchContextDeleter> context;
  std::unique_ptr<pcre2_jit_stack, JitStackDeleter> stack;

  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  size_t start = 0;
  while (start <= n) {
    // The caller guarantees valid UTF-8 (Tokenizer::encode checks once), so skip PCRE2's check.
    const int rc = jit_ ? pcre2_jit_match(code_, subject, n, start, 0, match.get(), context.get())
                        : pcre2_match(code_, subject, n, start, PCRE2_NO_UTF_CHECK, match.get(),
                                      context.get());
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !stack) {
      stack.reset(pcre2_jit_stack_create(32 * 1024, 512 * 1024 * 1024, nullptr));
      context.reset(pcre2_match_context_create(nullptr));
      if (!stack || !context) fail("{}: out of memory for the regex JIT stack", where_);
      pcre2_jit_stack_assign(context.get(), nullptr, stack.get());
      continue;
    }
    if (rc < 0) {
      fail("{}: regex match failed at byte {} of a {}-byte piece: {}", where_, start, n,
           pcre2_message(rc));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    const MatchSpan span{ovector[0], ovector[1]};
    out.push_back(span);
    if (span.end > span.begin) {
      start = span.end;
    } else {
      if (span.end >= n) break;
      start = span.end + utf8_char_length(static_cast<unsigned char>(text[span.end]));
    }
  }
}

}  // namespace tessera

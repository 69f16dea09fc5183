#include "tokenizer/added_tokens.h"

#include <utf8proc.h>

#include <algorithm>

#include "util/utf8.h"

namespace tessera {
namespace {

// Rust regex `\s`: the Unicode White_Space property.
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Rust regex `\w`: Alphabetic | Mark | Decimal_Number | Connector_Punctuation | Join_Control.
// Alphabetic is approximated by the letter categories plus Nl (it also has a few So/Mn extras).
bool is_word_char(char32_t c) {
  if (c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

// Start of the scalar that ends at `end` (exclusive) in valid UTF-8 text; end > 0.
size_t previous_scalar(std::string_view text, size_t end) {
  size_t pos = end - 1;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

char32_t scalar_at(std::string_view text, size_t pos, size_t* length) {
  return utf8::decode_at(text, pos, length);
}

// `\s*$` in text[0, end): where the trailing whitespace run starts.
size_t trailing_space_start(std::string_view text, size_t end) {
  while (end > 0) {
    const size_t pos = previous_scalar(text, end);
    size_t length = 0;
    if (!is_white_space(scalar_at(text, pos, &length))) break;
    end = pos;
  }
  return end;
}

// `^\s*` in text[begin, ...): where the leading whitespace run ends.
size_t leading_space_end(std::string_view text, size_t begin) {
  while (begin < text.size()) {
    size_t length = 0;
    if (!is_white_space(scalar_at(text, begin, &length))) break;
    begin += length;
  }
  return begin;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<std::string>& patterns,
                                     std::vector<AddedToken> tokens)
    : tokens_(std::move(tokens)) {
  nodes_.emplace_back();
  for (size_t t = 0; t < patterns.size(); ++t) {
    const std::string& pattern = patterns[t];
    if (pattern.empty()) continue;
    int32_t node = 0;
    for (unsigned char b : pattern) {
      auto& children = nodes_[node].children;
      const auto it = std::find_if(children.begin(), children.end(),
                                   [b](const auto& child) { return child.first == b; });
      if (it != children.end()) {
        node = it->second;
      } else {
        const auto next = static_cast<int32_t>(nodes_.size());
        children.emplace_back(b, next);
        nodes_.emplace_back();
        node = next;
      }
    }
    if (nodes_[node].token < 0) nodes_[node].token = static_cast<int32_t>(t);
    first_byte_[static_cast<unsigned char>(pattern[0])] = true;
  }
}

AddedTokenMatcher::RawMatch AddedTokenMatcher::next_match(std::string_view text,
                                                          size_t from) const {
  for (size_t begin = from; begin < text.size(); ++begin) {
    if (!first_byte_[static_cast<unsigned char>(text[begin])]) continue;
    RawMatch best;
    int32_t node = 0;
    for (size_t pos = begin; pos < text.size(); ++pos) {
      const auto b = static_cast<unsigned char>(text[pos]);
      const auto& children = nodes_[node].children;
      const auto it = std::find_if(children.begin(), children.end(),
                                   [b](const auto& child) { return child.first == b; });
      if (it == children.end()) break;
      node = it->second;
      if (nodes_[node].token >= 0) best = {begin, pos + 1, nodes_[node].token};
    }
    if (best.token >= 0) return best;
  }
  return {};
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextSegment>& out) const {
  size_t start_offset = 0;  // end of the previous emitted token
  size_t search = 0;        // matching resumes after the raw match, not after rstrip's extension
  while (search < text.size()) {
    const RawMatch m = next_match(text, search);
    if (m.token < 0) break;
    search = m.end;
    const AddedToken& token = tokens_[m.token];
    size_t start = m.begin;
    size_t stop = m.end;

    if (token.single_word) {
      size_t length = 0;
      const bool word_before =
          start > 0 && is_word_char(scalar_at(text, previous_scalar(text, start), &length));
      const bool word_after = stop < text.size() && is_word_char(scalar_at(text, stop, &length));
      if (word_before || word_after) continue;
    }
    // Whitespace an earlier token already took is not taken again.
    if (token.lstrip) start = std::max(trailing_space_start(text, start), start_offset);
    if (token.rstrip) stop = leading_space_end(text, stop);

    if (start_offset < start) out.push_back({text.substr(start_offset, start - start_offset), -1});
    out.push_back({text.substr(start, stop - start), token.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({text.substr(start_offset), -1});
}

}  // namespace tessera

// Small text helpers for scanning streamed model output for tags ("<think>", "<tool_call>"):
// text arrives in pieces, so a tag may be cut anywhere and its start must be held back.
#pragma once

#include <algorithm>
#include <string_view>

namespace tessera {

// The whitespace that separates tags from text in chat templates.
inline bool is_tag_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Length of the longest tail of `s` that is a proper prefix of `tag`: how much of `s` might be
// the start of `tag` continued in the next piece.
inline size_t partial_tag_tail(std::string_view s, std::string_view tag) {
  for (size_t k = std::min(tag.size() - 1, s.size()); k > 0; --k)
    if (s.substr(s.size() - k) == tag.substr(0, k)) return k;
  return 0;
}

}  // namespace tessera

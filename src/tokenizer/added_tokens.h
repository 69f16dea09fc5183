// Added tokens (tokenizer.json "added_tokens"): strings cut out of the input before the BPE
// pipeline runs and mapped straight to their ids. Matching follows HF AddedVocabulary::find_matches
// (tokenizers/src/tokenizer/added_vocabulary.rs): leftmost-longest matches, then the per-token
// single_word / lstrip / rstrip rules.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;      // skipped by decode(skip_special); not the same as "added"
  bool normalized = true;    // matched in normalized text (true) or in the raw input (false)
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool single_word = false;  // only matches when not inside a word (\w on either side)
};

// A piece of input after added tokens are cut out.
struct TextSegment {
  std::string_view text;  // plain text, or the matched token text (with stripped whitespace)
  int32_t token_id = -1;  // >= 0: an added token
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // patterns[i] is the string that stands for tokens[i] in the text being matched: its content,
  // or its normalized content for normalized tokens. Empty patterns are ignored.
  AddedTokenMatcher(const std::vector<std::string>& patterns, std::vector<AddedToken> tokens);

  bool empty() const { return tokens_.empty(); }

  // Appends the segments of `text` (valid UTF-8) to `out`: plain text between matches and one
  // segment per match. Empty plain segments are not emitted.
  void split(std::string_view text, std::vector<TextSegment>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;  // byte -> node index
    int32_t token = -1;                                       // index into tokens_ if terminal
  };
  struct RawMatch {
    size_t begin = 0, end = 0;
    int32_t token = -1;
  };
  // The leftmost-longest match starting at or after `from`; token -1 if none.
  RawMatch next_match(std::string_view text, size_t from) const;

  std::vector<Node> nodes_;              // byte trie, root at 0
  std::array<bool, 256> first_byte_{};   // quick reject for positions no pattern starts at
  std::vector<AddedToken> tokens_;
};

}  // namespace tessera

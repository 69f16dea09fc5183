// A compiled PCRE2 pattern for pre-tokenization: UTF + UCP (Unicode \s, \p{L}, (?i) folding) and
// JIT when the platform has it. HF tokenizers uses Oniguruma; PCRE2 accepts the same syntax for
// the patterns tokenizer.json files carry ((?i:...), \p{..}, (?!\S)).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

struct pcre2_real_code_8;

namespace tessera {

struct MatchSpan {
  size_t begin = 0;  // byte offsets into the searched text, [begin, end)
  size_t end = 0;
};

class Regex {
 public:
  // Compiles `pattern`; `literal` matches it as a plain string. Throws tessera::Error naming
  // `where` (e.g. "tokenizer.json: pre_tokenizer.pretokenizers[0].pattern") on a bad pattern.
  Regex(std::string_view pattern, std::string_view where, bool literal = false);
  ~Regex();
  Regex(Regex&& other) noexcept;
  Regex& operator=(Regex&& other) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends every non-overlapping match, left to right, to `out` (Rust find_iter semantics:
  // after an empty match the search resumes one character later). `text` must be valid UTF-8.
  // Thread-safe: match state is per call.
  void find_all(std::string_view text, std::vector<MatchSpan>& out) const;

 private:
  pcre2_real_code_8* code_ = nullptr;
  bool jit_ = false;
  std::string where_;  // names the pattern's source in error messages
};

}  // namespace tessera

// The tokenizer.json "pre_tokenizer": cuts normalized text into words that BPE encodes one by one.
// Qwen2/3/3.5 use Sequence[Split(<regex>, Isolated), ByteLevel(use_regex=false)].
//
// BPE here works on raw bytes, so the ByteLevel step only splits (GPT-2 regex when use_regex) and
// adds the prefix space when asked; the byte->char mapping of HF is folded into the vocab at load.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace tessera {

// HF SplitDelimiterBehavior: what happens to the text a Split pattern matches.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

class PreTokenizer {
 public:
  using Emit = std::function<void(std::string_view word)>;

  PreTokenizer() = default;  // no steps: the whole text is one word
  PreTokenizer(PreTokenizer&&) = default;
  PreTokenizer& operator=(PreTokenizer&&) = default;

  // Reads Sequence / Split / ByteLevel specs (null allowed); any other type throws tessera::Error
  // naming `where`. `split_regex_override` (tokenizer_config.json "pretokenize_regex") replaces
  // the pattern of the one Split step with a Regex pattern; `override_where` names its source.
  static PreTokenizer from_json(const nlohmann::json& spec, const std::string& where,
                                const std::optional<std::string>& split_regex_override = {},
                                const std::string& override_where = {});

  // Calls emit(word) for every non-empty word of `text` (valid UTF-8), left to right. The view
  // is valid only during the call. Thread-safe.
  void split(std::string_view text, const Emit& emit) const;

  bool has_byte_level() const;

 private:
  struct Step {
    bool byte_level = false;       // else a Split step
    std::optional<Regex> regex;    // Split: its pattern; ByteLevel: GPT-2 pattern if use_regex
    SplitBehavior behavior = SplitBehavior::kIsolated;
    bool invert = false;           // Split: the pattern marks the text between delimiters
    bool add_prefix_space = false; // ByteLevel: prepend ' ' to a word not starting with one
  };

  static void read_spec(const nlohmann::json& spec, const std::string& where,
                        std::vector<Step>& steps);
  void run(size_t step, std::string_view text, const Emit& emit) const;
  void split_with(const Step& s, size_t next_step, std::string_view text, const Emit& emit) const;

  std::vector<Step> steps_;
};

}  // namespace tessera

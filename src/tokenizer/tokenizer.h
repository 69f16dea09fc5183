// Byte-level BPE tokenizer that reproduces HF `tokenizers` for Qwen2 / Qwen3 / Qwen3.5
// tokenizer.json files (BPE model, optional NFC normalizer, Split + ByteLevel pre-tokenizer,
// ByteLevel decoder). The pipeline is read from the JSON, not assumed; an unsupported component
// type is a tessera::Error naming the file and field.
//
// encode(text, parse_special):
//   1. `text` must be valid UTF-8; otherwise tessera::Error("... not valid UTF-8 at byte offset N"),
//      N being the first byte of the first ill-formed or truncated sequence. (HF's Python API can
//      never receive such text, so there is nothing to match; rejecting beats guessing.)
//   2. parse_special: added tokens with normalized=false are cut out of the raw text
//      (leftmost-longest, honouring single_word / lstrip / rstrip); each remaining piece is
//      normalized, then added tokens with normalized=true are cut out of it.
//      !parse_special: no added token is matched at all, special or not; their text goes through
//      BPE like any other. This is what the reference vectors' `ids_split_special` hold (e.g.
//      "<think>" -> "<th","ink",">") and what llama.cpp's parse_special=false does.
//   3. each remaining piece is pre-tokenized (the file's regex, compiled with PCRE2) and each word
//      is BPE-encoded on its raw bytes.
// No BOS/EOS is added (Qwen's post-processor adds nothing; other post-processors are rejected).
//
// decode(ids): concatenates each token's bytes (HF ByteLevel decoder) and repairs invalid UTF-8
// the way Rust's String::from_utf8_lossy does: each maximal ill-formed subpart -> one U+FFFD.
//
// Thread safety: a loaded Tokenizer is immutable apart from an internal, locked word cache, so
// encode/decode may be called from several threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/string_hash.h"

namespace tessera {

class Tokenizer {
 public:
  // Reads model_dir/tokenizer.json and, when present, model_dir/tokenizer_config.json:
  //  - eos_token (a string or {"content": ...}) -> eos_token_id();
  //  - added_tokens_decoder: tokens missing from tokenizer.json are added with their flags;
  //  - pretokenize_regex (Qwen3.5): replaces the regex of the tokenizer.json Split step.
  // Throws tessera::Error naming the file and field on anything missing, malformed or unsupported.
  static Tokenizer load(const std::filesystem::path& model_dir);

  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;

  // Throws tessera::Error naming the id if an id is not in the vocabulary.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  // Added tokens by content first, then the BPE vocab by its byte-level string ("Ġworld").
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Byte-level string for BPE tokens, content for added tokens; nullopt for an unknown id.
  std::optional<std::string_view> id_to_token(int32_t id) const;

  // Largest id + 1, added tokens included (151,669 for Qwen3; the embedding is padded beyond).
  int32_t vocab_size() const { return static_cast<int32_t>(entries_.size()); }
  bool is_known(int32_t id) const { return id >= 0 && id < vocab_size() && entries_[id].known; }
  bool is_special(int32_t id) const { return is_known(id) && entries_[id].special; }
  std::optional<int32_t> eos_token_id() const { return eos_token_id_; }
  const std::vector<AddedToken>& added_tokens() const { return added_tokens_; }

  // The bytes the decoder emits for `id` before UTF-8 repair (StreamingDecoder builds on this).
  // Throws tessera::Error naming the id if it is unknown.
  std::string_view token_bytes(int32_t id) const;

 private:
  struct Entry {
    std::string token;  // byte-level string or added-token content
    std::string bytes;  // what the ByteLevel decoder emits for it
    bool known = false; // false for holes in the id range
    bool special = false;
  };
  Tokenizer() = default;
  void build_id_table(const std::string& file);  // load(): entries_ and added_ids_
  void build_added_token_matchers();             // load(): raw_matcher_, normalized_matcher_
  void encode_plain(std::string_view text, bool parse_special, std::vector<int32_t>& ids) const;
  [[noreturn]] void fail_unknown_id(int32_t id) const;

  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  std::unique_ptr<Bpe> bpe_;
  std::vector<AddedToken> added_tokens_;
  AddedTokenMatcher raw_matcher_;         // added tokens with normalized = false
  AddedTokenMatcher normalized_matcher_;  // added tokens with normalized = true
  std::vector<Entry> entries_;            // by id
  TokenIdMap model_ids_;  // BPE vocab, by byte-level string
  TokenIdMap added_ids_;  // added tokens, by content
  std::optional<int32_t> eos_token_id_;
};

}  // namespace tessera

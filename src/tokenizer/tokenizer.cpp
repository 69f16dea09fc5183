#include "tokenizer/tokenizer.h"

#include "util/utf8.h"
#include "util/error.h"

namespace tessera {

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  if (const auto bad = utf8::first_invalid_offset(text)) {
    fail("tokenizer: input text is not valid UTF-8 at byte offset {} (byte 0x{:02X})", *bad,
         static_cast<unsigned char>(text[*bad]));
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  if (!parse_special || raw_matcher_.empty()) {
    encode_plain(text, parse_special, ids);
    return ids;
  }
  std::vector<TextSegment> segments;
  raw_matcher_.split(text, segments);
  for (const TextSegment& segment : segments) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
    } else {
      encode_plain(segment.text, parse_special, ids);
    }
  }
  return ids;
}

// Normalizes one piece of text between raw-matched added tokens, cuts out normalized added
// tokens, and BPE-encodes the words of the rest. HF normalizes each such piece on its own.
void Tokenizer::encode_plain(std::string_view text, bool parse_special,
                             std::vector<int32_t>& ids) const {
  std::string normalized;
  if (!normalizer_.is_identity()) {
    normalized = normalizer_.normalize(text);
    text = normalized;
  }
  const auto encode_words = [&](std::string_view piece) {
    pre_tokenizer_.split(piece, [&](std::string_view word) { bpe_->encode_word(word, ids); });
  };
  if (!parse_special || normalized_matcher_.empty()) {
    encode_words(text);
    return;
  }
  std::vector<TextSegment> segments;
  normalized_matcher_.split(text, segments);
  for (const TextSegment& segment : segments) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
    } else {
      encode_words(segment.text);
    }
  }
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (!is_known(id)) fail_unknown_id(id);
    if (skip_special && entries_[id].special) continue;
    bytes.append(entries_[id].bytes);
  }
  std::string text;
  text.reserve(bytes.size());
  utf8::append_lossy(bytes, text);
  return text;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const auto it = added_ids_.find(token); it != added_ids_.end()) return it->second;
  if (const auto it = model_ids_.find(token); it != model_ids_.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string_view> Tokenizer::id_to_token(int32_t id) const {
  if (!is_known(id)) return std::nullopt;
  return std::string_view(entries_[id].token);
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (!is_known(id)) fail_unknown_id(id);
  return entries_[id].bytes;
}

void Tokenizer::fail_unknown_id(int32_t id) const {
  fail("tokenizer: token id {} is not in the vocabulary (valid ids: 0..{})", id, vocab_size() - 1);
}

}  // namespace tessera

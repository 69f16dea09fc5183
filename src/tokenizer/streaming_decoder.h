// Incremental detokenization for generation: push() one id at a time and get back only text
// that is final. A token can end in the middle of a UTF-8 character (byte-level BPE splits
// emoji and CJK across tokens); those bytes are held until the character completes, so the
// caller never sees a partial character or a U+FFFD that a later token would have avoided.
//
// Invariant: concat(push(ids[0]), ..., push(ids[n-1]), finish()) == tokenizer.decode(ids, skip).
// It holds because the lossy repair (see utf8.h) decides every chunk without looking past the
// chunk's end, except a truncated sequence at the very end, which is exactly what is held back.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace tessera {

class StreamingDecoder {
 public:
  // `tokenizer` must outlive the decoder. skip_special as in Tokenizer::decode.
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special = false);

  // Returns the text completed by `id`: whole characters, and U+FFFD only for bytes that no
  // later token can make valid. Throws tessera::Error naming the id if it is unknown.
  std::string push(int32_t id);

  // Flushes held bytes (a truncated character becomes one U+FFFD, as in one-shot decode) and
  // resets the decoder for a new sequence.
  std::string finish();

  // Bytes held back waiting for the rest of a character (0..3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::string pending_;  // a truncated UTF-8 sequence from earlier tokens
};

}  // namespace tessera

// StreamingDecoder must agree with one-shot decode for any id sequence, including sequences of
// raw byte tokens that form truncated or ill-formed UTF-8.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/streaming_decoder.h"
#include "util/utf8.h"
#include "tokenizer_test_util.h"
#include "util/error.h"

namespace tessera {
namespace {

std::string stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip) {
  StreamingDecoder decoder(tok, skip);
  std::string text;
  for (int32_t id : ids) {
    const std::string piece = decoder.push(id);
    // Whatever push returns is final: valid UTF-8 (repaired bytes are U+FFFD, which is valid).
    EXPECT_FALSE(utf8::first_invalid_offset(piece).has_value());
    text += piece;
  }
  return text + decoder.finish();
}

TEST(StreamingDecoder, RandomIdSequencesMatchOneShotDecode) {
  const Tokenizer& tok = test::qwen3();
  std::mt19937 rng(1234);
  // Mostly byte tokens (0..255, which produce partial characters), some ordinary and added ones.
  std::uniform_int_distribution<int32_t> byte_token(0, 255);
  std::uniform_int_distribution<int32_t> any_token(0, tok.vocab_size() - 1);
  std::uniform_int_distribution<int32_t> added(151643, 151668);
  std::uniform_int_distribution<int> kind(0, 9);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<int32_t> ids(1 + trial % 12);
    for (int32_t& id : ids) {
      const int k = kind(rng);
      id = k < 6 ? byte_token(rng) : k < 9 ? any_token(rng) : added(rng);
    }
    for (bool skip : {false, true}) {
      ASSERT_EQ(stream(tok, ids, skip), tok.decode(ids, skip)) << "trial " << trial;
    }
  }
}

TEST(StreamingDecoder, HoldsPartialCharacterUntilComplete) {
  const Tokenizer& tok = test::qwen3();
  const int32_t e2 = *tok.token_to_id("â"), b82 = *tok.token_to_id("Ĥ"), ac = *tok.token_to_id("¬");
  StreamingDecoder decoder(tok);
  EXPECT_EQ(decoder.push(9707), "Hello");
  EXPECT_EQ(decoder.push(e2), "");
  EXPECT_EQ(decoder.push(b82), "");
  EXPECT_EQ(decoder.pending_bytes(), 2u);
  EXPECT_EQ(decoder.push(ac), "€");
  EXPECT_EQ(decoder.push(e2), "");
  EXPECT_EQ(decoder.finish(), "\xEF\xBF\xBD");  // truncated at the end: one U+FFFD, like decode
  EXPECT_EQ(decoder.finish(), "");              // finish resets
}

TEST(StreamingDecoder, SpecialTokensAndUnknownIds) {
  const Tokenizer& tok = test::qwen3();
  StreamingDecoder keep(tok, false), skip(tok, true);
  EXPECT_EQ(keep.push(151645), "<|im_end|>");
  EXPECT_EQ(skip.push(151645), "");
  EXPECT_EQ(skip.push(151667), "<think>");  // not special: kept
  EXPECT_THROW(keep.push(tok.vocab_size()), Error);
}

}  // namespace
}  // namespace tessera

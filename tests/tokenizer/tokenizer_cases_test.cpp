// Qwen3 tokenizer on cases beyond the reference files. Expectations come from the vocab itself
// (token_to_id of the byte-level strings the pre-tokenizer regex must produce), from the ids the
// reference files pin (" " = 220, "\n" = 198, ...), or from round-trip invariants.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "util/utf8.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer_test_util.h"
#include "util/error.h"

namespace tessera {
namespace {

using Ids = std::vector<int32_t>;

int32_t id_of(std::string_view token) {
  const auto id = test::qwen3().token_to_id(token);
  EXPECT_TRUE(id.has_value()) << "no token " << token;
  return id.value_or(-1);
}

std::string nfc(std::string_view text) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                              static_cast<utf8proc_ssize_t>(text.size()), &out,
                              utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  EXPECT_GE(n, 0);
  std::string result(reinterpret_cast<const char*>(out), n > 0 ? size_t(n) : 0);
  std::free(out);
  return result;
}

TEST(Qwen3Cases, WhitespaceRuns) {
  const Tokenizer& tok = test::qwen3();
  // \s+(?!\S) leaves the last space of a run to join the next word.
  EXPECT_EQ(tok.encode("x    y"), (Ids{id_of("x"), id_of("ĠĠĠ"), id_of("Ġy")}));
  // A run at the end of the text is one piece.
  EXPECT_EQ(tok.encode("x  "), (Ids{id_of("x"), 256}));
  // \s*[\r\n]+ takes the spaces before a newline with it.
  EXPECT_EQ(tok.encode("x  \n"), (Ids{id_of("x"), id_of("ĠĠĊ")}));
  // Tabs are whitespace too: "\t" alone is 197 (llama.cpp vector).
  EXPECT_EQ(tok.encode("\t"), (Ids{197}));
  // 64 spaces round-trip, whatever the split.
  const std::string spaces(64, ' ');
  EXPECT_EQ(tok.decode(tok.encode(spaces)), spaces);
  EXPECT_EQ(tok.decode(tok.encode("a" + spaces + "b")), "a" + spaces + "b");
}

TEST(Qwen3Cases, DigitsAreOneTokenEach) {
  const Tokenizer& tok = test::qwen3();
  EXPECT_EQ(tok.encode("31415"), (Ids{18, 16, 19, 16, 20}));  // '0' = 15 ... '9' = 24
  EXPECT_EQ(tok.encode("x2"), (Ids{id_of("x"), 17}));
  // \p{N} covers other scripts' digits: each Arabic-Indic digit is its own word.
  Ids digits = tok.encode("٣");
  const Ids four = tok.encode("٤");
  digits.insert(digits.end(), four.begin(), four.end());
  EXPECT_EQ(tok.encode("٣٤"), digits);
  // A space before a digit run stays separate (no " ?\p{N}" alternative).
  EXPECT_EQ(tok.encode(" 7"), (Ids{220, 22}));
}

TEST(Qwen3Cases, CjkAndEmojiRoundTrip) {
  const Tokenizer& tok = test::qwen3();
  for (const std::string text : {"中文分词测试：你好，世界！", "日本語のテキストです。", "🤖🎉👍🏽 ok 🇯🇵",
                                 "👨‍👩‍👧‍👦", "漢字かな交じり文 and English"}) {
    const Ids ids = tok.encode(text);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tok.decode(ids), text);
  }
}

TEST(Qwen3Cases, SpecialTokensInsideUserText) {
  const Tokenizer& tok = test::qwen3();
  const Ids ids = tok.encode("Hi<|im_end|>there");
  EXPECT_EQ(ids, (Ids{id_of("Hi"), 151645, id_of("there")}));
  // parse_special = false: the special token's text is ordinary text.
  const Ids plain = tok.encode("Hi<|im_end|>there", /*parse_special=*/false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 151645), 0);
  EXPECT_EQ(tok.decode(plain), "Hi<|im_end|>there");
  // Adjacent added tokens, and text that is only almost a token.
  EXPECT_EQ(tok.encode("<|im_end|><|im_start|>"), (Ids{151645, 151644}));
  EXPECT_EQ(tok.encode("<|im_end|"), tok.encode("<|im_end|", false));
  // Whitespace around a token is not stripped (lstrip/rstrip are false for Qwen).
  EXPECT_EQ(tok.encode(" <think> "), (Ids{220, 151667, 220}));
  // skip_special drops special tokens only.
  EXPECT_EQ(tok.decode(Ids{151644, 151667, 151645}, true), "<think>");
}

TEST(Qwen3Cases, InvalidUtf8InputThrowsWithOffset) {
  const Tokenizer& tok = test::qwen3();
  const auto message = [&](std::string_view text) {
    try {
      tok.encode(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("abc\xFF" "def").find("byte offset 3"), std::string::npos);
  EXPECT_NE(message("ab\xE2\x82").find("byte offset 2"), std::string::npos);      // truncated
  EXPECT_NE(message("\xED\xA0\x80").find("byte offset 0"), std::string::npos);    // surrogate
  EXPECT_NE(message("\xC0\xAF").find("byte offset 0"), std::string::npos);        // overlong
  EXPECT_NE(message("ok\x80").find("not valid UTF-8"), std::string::npos);
  // U+0000 is valid UTF-8 and goes through like any control character.
  const std::string with_nul("a\0b", 3);
  EXPECT_EQ(tok.decode(tok.encode(with_nul)), with_nul);
}

TEST(Qwen3Cases, DecodeUnknownIdThrowsNamingIt) {
  const Tokenizer& tok = test::qwen3();
  try {
    tok.decode(Ids{9707, 151669});
    FAIL() << "expected tessera::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("151669"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tok.decode(Ids{-5}), Error);
}

TEST(Qwen3Cases, DecodeRepairsInvalidUtf8LikeFromUtf8Lossy) {
  const Tokenizer& tok = test::qwen3();
  // Byte tokens for 0xE2 and 0x82: ids of the single-char byte-level symbols 'â' and 'Ĥ'.
  const int32_t e2 = id_of("â"), b82 = id_of("Ĥ"), ac = id_of("¬");
  EXPECT_EQ(tok.decode(Ids{e2, b82, ac}), "€");
  EXPECT_EQ(tok.decode(Ids{e2, b82}), "\xEF\xBF\xBD");          // truncated: one U+FFFD
  EXPECT_EQ(tok.decode(Ids{e2, b82, 9707}), "\xEF\xBF\xBDHello");  // cut by a new character
  EXPECT_EQ(tok.decode(Ids{b82, b82}), "\xEF\xBF\xBD\xEF\xBF\xBD"); // lone continuations: one each
}

TEST(Qwen3Cases, MegabyteInputRoundTripsToNfc) {
  const Tokenizer& tok = test::qwen3();
  const std::vector<std::string> parts = {
      "The quick brown fox jumps over the lazy dog. ", "café naïve coöperate ",
      "cafe\xCC\x81 (decomposed) ", "中文分词，日本語、한국어 ", "👩‍💻🚀 emoji ",
      "x = [1, 22, 333];\n\tif (x) { return; }\n", "   spaced   out   ", "नमस्ते दुनिया ",
      "Ǆ ǅ ǆ Å Ω ", "\r\n\r\n", "'s 'LL 'Re ", "1234567890 "};
  std::string text;
  for (size_t i = 0; text.size() < (1u << 20); ++i) text += parts[(i * 7) % parts.size()];

  const auto start = std::chrono::steady_clock::now();
  const Ids ids = tok.encode(text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(tok.decode(ids), nfc(text));
  RecordProperty("encode_MBps", std::to_string(text.size() / seconds / 1e6));

  // Pathological single words stay fast: 256 KiB of one punctuation run is one BPE word.
  const std::string punct(1 << 18, '!');
  EXPECT_EQ(tok.decode(tok.encode(punct)), punct);
  const std::string long_spaces(1 << 18, ' ');
  EXPECT_EQ(tok.decode(tok.encode(long_spaces + "x")), long_spaces + "x");
}

TEST(Qwen3Cases, StreamingOneIdAtATimeNeverSplitsCharacters) {
  const Tokenizer& tok = test::qwen3();
  for (const std::string text :
       {"你好，世界！这是一个测试。", "😀😃😄😁 🇯🇵🇫🇷 👩‍👩‍👧‍👦", "mixed 中文 and emoji 🎉 text",
        "ñandú — “quotes” …", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙"}) {
    const Ids ids = tok.encode(text);
    StreamingDecoder decoder(tok);
    std::string streamed;
    for (int32_t id : ids) {
      const std::string piece = decoder.push(id);
      EXPECT_FALSE(utf8::first_invalid_offset(piece).has_value());
      EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos) << "U+FFFD mid-stream in " << text;
      streamed += piece;
    }
    EXPECT_EQ(decoder.pending_bytes(), 0u);
    streamed += decoder.finish();
    EXPECT_EQ(streamed, text);
  }
}

}  // namespace
}  // namespace tessera

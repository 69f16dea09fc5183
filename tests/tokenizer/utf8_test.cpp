// The lossy UTF-8 repair must match Rust's String::from_utf8_lossy (HF ByteLevel decoder):
// one U+FFFD per maximal ill-formed subpart. Cases from the Unicode Standard §3.9 (Table 3-8)
// and the WHATWG encoding spec, which Rust follows.
#include <gtest/gtest.h>

#include "util/utf8.h"

namespace tessera {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::string lossy(std::string_view bytes) {
  std::string out;
  utf8::append_lossy(bytes, out);
  return out;
}

TEST(Utf8Lossy, ValidTextIsUnchanged) {
  EXPECT_EQ(lossy("plain ascii"), "plain ascii");
  EXPECT_EQ(lossy("é中😀"), "é中😀");
  EXPECT_EQ(lossy(std::string("\0x", 2)), std::string("\0x", 2));
}

TEST(Utf8Lossy, MaximalSubparts) {
  // Unicode Table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a,FFFD,FFFD,FFFD,b,FFFD,c,FFFD,FFFD,d
  EXPECT_EQ(lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + kFffd + kFffd + kFffd + "b" + kFffd + "c" + kFffd + kFffd + "d");
  EXPECT_EQ(lossy("\xE0\x80"), kFffd + kFffd);         // E0 needs A0..BF next
  EXPECT_EQ(lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // surrogate: each byte
  EXPECT_EQ(lossy("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
  EXPECT_EQ(lossy("\xC0\xAF"), kFffd + kFffd);         // overlong lead never valid
  EXPECT_EQ(lossy("\xF0\x9F\x98"), kFffd);             // truncated 4-byte: one
  EXPECT_EQ(lossy("\xF0\x9F\x98x"), kFffd + "x");
  EXPECT_EQ(lossy("\xFF\xFE"), kFffd + kFffd);
}

TEST(Utf8, FirstInvalidOffset) {
  EXPECT_EQ(utf8::first_invalid_offset("all ascii text, long enough for the fast path"), std::nullopt);
  EXPECT_EQ(utf8::first_invalid_offset("0123456789abcdef\x80"), 16u);
  EXPECT_EQ(utf8::first_invalid_offset("é\xE2\x82"), 2u);
  EXPECT_EQ(utf8::first_invalid_offset(""), std::nullopt);
}

TEST(Utf8, TruncatedTail) {
  EXPECT_EQ(utf8::truncated_tail_length("abc"), 0u);
  EXPECT_EQ(utf8::truncated_tail_length("ab\xE2"), 1u);
  EXPECT_EQ(utf8::truncated_tail_length("ab\xE2\x82"), 2u);
  EXPECT_EQ(utf8::truncated_tail_length("ab\xE2\x82\xAC"), 0u);
  EXPECT_EQ(utf8::truncated_tail_length("\xF0\x9F\x98"), 3u);
  EXPECT_EQ(utf8::truncated_tail_length("\xF0\xE2\x82"), 2u);  // F0 is already its own FFFD
  EXPECT_EQ(utf8::truncated_tail_length("\xE0\x80"), 0u);      // can never complete
  EXPECT_EQ(utf8::truncated_tail_length("\x82"), 0u);
  EXPECT_EQ(utf8::truncated_tail_length("\xC3\xA9\x82"), 0u);
}

}  // namespace
}  // namespace tessera

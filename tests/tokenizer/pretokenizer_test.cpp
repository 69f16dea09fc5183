// Pre-tokenizer specs read from JSON: the regex comes from the file (or from a config override),
// never from code, and the split behaviors follow HF's NormalizedString::split.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/pretokenizer.h"
#include "util/error.h"

namespace tessera {
namespace {

using nlohmann::json;
using Words = std::vector<std::string>;

// Qwen2/Qwen3 pattern (tokenizer.json) and Qwen3.5 pattern (tokenizer_config pretokenize_regex).
const std::string kQwen3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kQwen35Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json qwen_spec(const std::string& regex) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
}

Words words(const PreTokenizer& p, std::string_view text) {
  Words out;
  p.split(text, [&](std::string_view w) { out.emplace_back(w); });
  return out;
}

TEST(PreTokenizer, Qwen3Pattern) {
  const auto p = PreTokenizer::from_json(qwen_spec(kQwen3Regex), "test");
  EXPECT_EQ(words(p, "Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(words(p, "I'M here"), (Words{"I", "'M", " here"}));  // (?i:...) folds case
  EXPECT_EQ(words(p, "a   b"), (Words{"a", "  ", " b"}));       // \s+(?!\S)
  EXPECT_EQ(words(p, "x \n\ny"), (Words{"x", " \n\n", "y"}));     // \s*[\r\n]+
  EXPECT_EQ(words(p, "2024!!\n"), (Words{"2", "0", "2", "4", "!!\n"}));
  EXPECT_EQ(words(p, "$x"), (Words{"$x"}));                        // one non-letter may lead
  // Combining marks are not letters for Qwen3: Devanagari splits at each vowel sign.
  EXPECT_EQ(words(p, "नमस्ते"), (Words{"नमस", "्त", "े"}));
}

TEST(PreTokenizer, WhitespaceIsOnigurumaWhiteSpace) {
  // HF matches with Oniguruma: \s is Unicode White_Space, which has U+0085 and U+2003 but not
  // U+180E (Cf since Unicode 6.3), although PCRE2's own \s still matches it.
  const auto p = PreTokenizer::from_json(qwen_spec(kQwen3Regex), "test");
  EXPECT_EQ(words(p, "!\u2003!"), (Words{"!", "\u2003", "!"}));
  EXPECT_EQ(words(p, "!\u0085!"), (Words{"!", "\u0085", "!"}));
  EXPECT_EQ(words(p, "!\u180E!"), (Words{"!\u180E!"}));
  EXPECT_EQ(words(p, "x\u180E \u180E"), (Words{"x", "\u180E", " \u180E"}));
}

TEST(PreTokenizer, Qwen35OverrideKeepsMarksInWords) {
  const auto p = PreTokenizer::from_json(qwen_spec(kQwen3Regex), "tokenizer.json: pre_tokenizer",
                                         kQwen35Regex, "tokenizer_config.json: pretokenize_regex");
  EXPECT_EQ(words(p, "नमस्ते दुनिया"), (Words{"नमस्ते", " दुनिया"}));
  EXPECT_EQ(words(p, "Hello world"), (Words{"Hello", " world"}));
}

TEST(PreTokenizer, SplitBehaviors) {
  const auto split = [](const char* behavior, bool invert = false) {
    return PreTokenizer::from_json(
        {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}},
        "test");
  };
  const std::string text = "a-b--c-";
  EXPECT_EQ(words(split("Isolated"), text), (Words{"a", "-", "b", "-", "-", "c", "-"}));
  EXPECT_EQ(words(split("Removed"), text), (Words{"a", "b", "c"}));
  EXPECT_EQ(words(split("MergedWithPrevious"), text), (Words{"a-", "b-", "-", "c-"}));
  EXPECT_EQ(words(split("MergedWithNext"), text), (Words{"a", "-b", "-", "-c", "-"}));
  EXPECT_EQ(words(split("Contiguous"), text), (Words{"a", "-", "b", "--", "c", "-"}));
  // Inverted: each "-" is kept and the text between them is removed.
  EXPECT_EQ(words(split("Removed", /*invert=*/true), text), (Words{"-", "-", "-", "-"}));
}

TEST(PreTokenizer, ByteLevelWithRegexAndPrefixSpace) {
  const auto p = PreTokenizer::from_json(
      {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}, "test");
  EXPECT_EQ(words(p, "Hello world123"), (Words{" Hello", " world", "123"}));
  EXPECT_EQ(words(p, " x"), (Words{" x"}));  // already starts with a space
  EXPECT_TRUE(p.has_byte_level());
}

TEST(PreTokenizer, ErrorsNameTheField) {
  const auto error_of = [](const json& spec) {
    try {
      PreTokenizer::from_json(spec, "tokenizer.json: pre_tokenizer");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({{"type", "Whitespace"}}).find("\"Whitespace\" is not supported"), std::string::npos);
  const std::string bad_regex =
      error_of({{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}});
  EXPECT_NE(bad_regex.find("tokenizer.json: pre_tokenizer.pattern.Regex"), std::string::npos) << bad_regex;
  EXPECT_NE(error_of({{"type", "Split"}, {"pattern", {{"Regex", "x"}}}, {"behavior", "Sideways"}})
                .find("behavior"),
            std::string::npos);
  // An override needs exactly one Split step to replace.
  try {
    PreTokenizer::from_json({{"type", "ByteLevel"}}, "tokenizer.json: pre_tokenizer", std::string("x"),
                            "tokenizer_config.json: pretokenize_regex");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pretokenize_regex"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera

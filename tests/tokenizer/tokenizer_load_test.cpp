// Loading: tiny synthetic tokenizer.json files exercise the parts Qwen3's file leaves at their
// defaults (merge order, ignore_merges, added-token flags, normalized added tokens), and broken
// files must fail with a tessera::Error naming the file and the field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/byte_level.h"
#include "tokenizer_test_util.h"
#include "util/error.h"

namespace tessera {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;

// Vocab: id b = the byte-level symbol of byte b, so unmerged text encodes to its byte values.
// Merges (rank order): "b c" -> bc (256), ["a","b"] -> ab (257), "a bc" -> abc (258).
// Pre-tokenizer: words are \S+ or \s+ runs.
json tiny_tokenizer() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::encode(std::string(1, char(b)))] = b;
  vocab["bc"] = 256;
  vocab["ab"] = 257;
  vocab["abc"] = 258;
  vocab["xyz"] = 259;  // reachable only through ignore_merges
  const auto added = [](int id, const char* content, bool special, bool normalized, bool lstrip,
                        bool rstrip, bool single_word) {
    return json{{"id", id}, {"content", content}, {"special", special}, {"normalized", normalized},
                {"lstrip", lstrip}, {"rstrip", rstrip}, {"single_word", single_word}};
  };
  return {
      {"version", "1.0"},
      {"added_tokens",
       {added(400, "<a>", true, false, false, false, false),
        added(401, "<a><b>", true, false, false, false, false),
        added(402, "[L]", false, false, true, false, false),
        added(403, "[R]", false, false, false, true, false),
        added(404, "sw", false, false, false, false, true),
        added(405, "CAFE\xCC\x81", false, true, false, false, false)}},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", "\\S+|\\s+"}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", {"b c", json::array({"a", "b"}), "a bc"}}}}};
}

Tokenizer load_tiny(const json& spec, const json& config = nullptr) {
  test::TempDir dir("tiny");
  dir.write("tokenizer.json", spec.dump());
  if (!config.is_null()) dir.write("tokenizer_config.json", config.dump());
  return Tokenizer::load(dir.path());
}

TEST(TinyTokenizer, MergesApplyByRankThenLeftmost) {
  const Tokenizer tok = load_tiny(tiny_tokenizer());
  EXPECT_EQ(tok.encode("abc"), (Ids{258}));        // bc (rank 0) first, then a+bc
  EXPECT_EQ(tok.encode("abab"), (Ids{257, 257}));  // equal ranks: leftmost first
  EXPECT_EQ(tok.encode("cab"), (Ids{'c', 257}));
  EXPECT_EQ(tok.encode("xyz"), (Ids{'x', 'y', 'z'}));
  EXPECT_EQ(tok.vocab_size(), 406);
  EXPECT_EQ(tok.eos_token_id(), std::nullopt);
}

TEST(TinyTokenizer, IgnoreMergesTakesWholeWordsFromVocab) {
  json spec = tiny_tokenizer();
  spec["model"]["ignore_merges"] = true;
  const Tokenizer tok = load_tiny(spec);
  EXPECT_EQ(tok.encode("xyz"), (Ids{259}));
  EXPECT_EQ(tok.encode("xyzz"), (Ids{'x', 'y', 'z', 'z'}));
}

TEST(TinyTokenizer, AddedTokenFlags) {
  const Tokenizer tok = load_tiny(tiny_tokenizer());
  EXPECT_EQ(tok.encode("<a><b>"), (Ids{401}));         // longest match wins
  EXPECT_EQ(tok.encode("<a><c>"), (Ids{400, '<', 'c', '>'}));
  EXPECT_EQ(tok.encode("x  [L]y"), (Ids{'x', 402, 'y'}));  // lstrip takes the spaces
  EXPECT_EQ(tok.encode("x[R]  y"), (Ids{'x', 403, 'y'}));  // rstrip takes the spaces
  EXPECT_EQ(tok.encode("a sw b"), (Ids{'a', ' ', 404, ' ', 'b'}));
  EXPECT_EQ(tok.encode("asw b"), (Ids{'a', 's', 'w', ' ', 'b'}));  // inside a word: no match
  EXPECT_EQ(tok.encode("sw_"), (Ids{'s', 'w', '_'}));              // '_' is a word character
  // Normalized tokens match after NFC, whether the input was composed or not.
  EXPECT_EQ(tok.encode("xCAF\xC3\x89"), (Ids{'x', 405}));
  EXPECT_EQ(tok.encode("xCAFE\xCC\x81"), (Ids{'x', 405}));
  // parse_special = false: no added token is matched.
  EXPECT_EQ(tok.encode("<a>sw", false), (Ids{'<', 'a', '>', 's', 'w'}));
  // decode: added tokens print their content; skip_special drops special ones only.
  EXPECT_EQ(tok.decode(Ids{400, 'x', 402}), "<a>x[L]");
  EXPECT_EQ(tok.decode(Ids{400, 'x', 402}, true), "x[L]");
}

TEST(TinyTokenizer, ConfigSuppliesEosAddedTokensAndRegex) {
  const json config = {
      {"eos_token", {{"content", "<a>"}, {"special", true}}},
      {"added_tokens_decoder",
       {{"400", {{"content", "<a>"}, {"special", true}, {"normalized", false}}},
        {"410", {{"content", "<new>"}, {"special", true}, {"normalized", false}}}}},
      {"pretokenize_regex", "\\S"}};  // one character per word: no merges can apply
  const Tokenizer tok = load_tiny(tiny_tokenizer(), config);
  EXPECT_EQ(tok.eos_token_id(), 400);
  EXPECT_EQ(tok.token_to_id("<new>"), 410);
  EXPECT_EQ(tok.encode("x<new>"), (Ids{'x', 410}));
  EXPECT_EQ(tok.encode("abc"), (Ids{'a', 'b', 'c'}));
  EXPECT_EQ(tok.vocab_size(), 411);
}

TEST(Qwen35Regex, ConfigOverrideChangesQwen3Splits) {
  // Qwen3's tokenizer.json with a Qwen3.5-style config: the config's regex must be the one used.
  test::TempDir dir("qwen35");
  std::filesystem::create_symlink(test::qwen3_dir() / "tokenizer.json", dir.path() / "tokenizer.json");
  const std::string regex35 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  dir.write("tokenizer_config.json", json{{"eos_token", "<|im_end|>"}, {"pretokenize_regex", regex35}}.dump());
  const Tokenizer tok35 = Tokenizer::load(dir.path());
  const Tokenizer& tok3 = test::qwen3();
  // \p{M} joins letter runs: Arabic harakat and Thai vowel marks no longer start new words.
  // (Devanagari happens to give the same ids: Qwen3 has no merges across those boundaries.)
  for (const std::string text : {"مَرْحَبًا بِالْعَالَمِ", "สวัสดีครับ ภาษาไทย"}) {
    EXPECT_NE(tok35.encode(text), tok3.encode(text)) << text;
    EXPECT_LT(tok35.encode(text).size(), tok3.encode(text).size()) << text;
    EXPECT_EQ(tok35.decode(tok35.encode(text)), text);
  }
  EXPECT_EQ(tok35.encode("Hello world"), tok3.encode("Hello world"));  // no marks: same words
}

TEST(Qwen35Regex, TokenizerJsonPatternIsTheOneUsed) {
  // The same change made in tokenizer.json itself (no config) has the same effect.
  std::string text = test::read_text(test::qwen3_dir() / "tokenizer.json");
  const std::string from = R"([^\\r\\n\\p{L}\\p{N}]?\\p{L}+)";
  const std::string to = R"([^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+)";
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), to);
  test::TempDir dir("qwen3_patched");
  dir.write("tokenizer.json", text);
  const Tokenizer patched = Tokenizer::load(dir.path());
  const std::string arabic = "مَرْحَبًا بِالْعَالَمِ";
  EXPECT_NE(patched.encode(arabic), test::qwen3().encode(arabic));
  EXPECT_EQ(patched.decode(patched.encode(arabic)), arabic);
}

// ---- broken files ------------------------------------------------------------------------------

std::string load_error(const json& spec, const json& config = nullptr) {
  try {
    load_tiny(spec, config);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(TokenizerLoadErrors, MissingDirectoryOrFile) {
  try {
    Tokenizer::load("/nonexistent/model");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "/nonexistent/model/tokenizer.json");
  }
}

TEST(TokenizerLoadErrors, BadJson) {
  test::TempDir dir("badjson");
  dir.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", ");
  try {
    Tokenizer::load(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "tokenizer.json: invalid JSON");
  }
  dir.write("tokenizer.json", tiny_tokenizer().dump());
  dir.write("tokenizer_config.json", "not json");
  try {
    Tokenizer::load(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "tokenizer_config.json: invalid JSON");
  }
}

TEST(TokenizerLoadErrors, UnsupportedComponents) {
  json spec = tiny_tokenizer();
  spec["model"]["type"] = "WordPiece";
  EXPECT_CONTAINS(load_error(spec), "model.type: model type \"WordPiece\" is not supported");

  spec = tiny_tokenizer();
  spec["normalizer"] = {{"type", "Lowercase"}};
  EXPECT_CONTAINS(load_error(spec), "normalizer: normalizer type \"Lowercase\" is not supported");

  spec = tiny_tokenizer();
  spec["pre_tokenizer"] = {{"type", "Metaspace"}};
  EXPECT_CONTAINS(load_error(spec), "pre_tokenizer type \"Metaspace\" is not supported");

  spec = tiny_tokenizer();
  spec["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Isolated"}};
  EXPECT_CONTAINS(load_error(spec), "no ByteLevel step");

  spec = tiny_tokenizer();
  spec["decoder"] = {{"type", "WordPiece"}};
  EXPECT_CONTAINS(load_error(spec), "decoder: decoder type WordPiece is not supported");

  spec = tiny_tokenizer();
  spec["post_processor"] = {{"type", "TemplateProcessing"}};
  EXPECT_CONTAINS(load_error(spec), "post_processor type TemplateProcessing is not supported");

  spec = tiny_tokenizer();
  spec["model"]["byte_fallback"] = true;
  EXPECT_CONTAINS(load_error(spec), "byte_fallback");
}

TEST(TokenizerLoadErrors, BadModelContents) {
  json spec = tiny_tokenizer();
  spec["model"]["merges"].push_back("q nope");
  EXPECT_CONTAINS(load_error(spec), "model.merges[3]: \"nope\" is not in model.vocab");

  spec = tiny_tokenizer();
  spec["model"]["merges"].push_back("nospace");
  EXPECT_CONTAINS(load_error(spec), "model.merges[3]: expected \"left right\"");

  spec = tiny_tokenizer();
  spec["model"]["vocab"].erase(byte_level::encode(" "));
  EXPECT_CONTAINS(load_error(spec), "no token for byte 0x20");

  spec = tiny_tokenizer();
  spec["model"]["vocab"]["dup"] = 5;
  EXPECT_CONTAINS(load_error(spec), "id 5 is used by both");

  spec = tiny_tokenizer();
  spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "[unclosed";
  EXPECT_CONTAINS(load_error(spec), "pre_tokenizer.pretokenizers[0].pattern.Regex: cannot compile regex");

  EXPECT_CONTAINS(load_error(tiny_tokenizer(), json{{"eos_token", "<missing>"}}),
                  "tokenizer_config.json: eos_token \"<missing>\" is not a token");
  EXPECT_CONTAINS(load_error(tiny_tokenizer(), json{{"added_tokens_decoder", {{"400", {{"content", "<z>"}}}}}}),
                  "differs from tokenizer.json");
}

}  // namespace
}  // namespace tessera

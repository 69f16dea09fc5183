// Qwen3 tokenizer against the reference vectors in tests/data/tokenizers/qwen3 (see tests/data/SOURCES.md):
// examples.jsonl (HF tokenizers output) and llama.cpp's ggml-vocab-qwen2 test (ids from HF's Rust
// tokenizer). Each vector is its own test case.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tokenizer/streaming_decoder.h"
#include "tokenizer_test_util.h"

namespace tessera {
namespace {

using nlohmann::json;

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string stream_decode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip) {
  StreamingDecoder decoder(tok, skip);
  std::string text;
  for (int32_t id : ids) text += decoder.push(id);
  return text + decoder.finish();
}

// ---- examples.jsonl --------------------------------------------------------------------------

struct EncodeExample {
  std::string name;
  json data;
};

std::vector<EncodeExample> load_encode_examples() {
  std::vector<EncodeExample> out;
  std::ifstream in(test::qwen3_dir() / "examples.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line);
    if (j["kind"] != "encode") continue;
    std::string name = j["id"].get<std::string>();
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    out.push_back({name, std::move(j)});
  }
  return out;
}

class Qwen3Example : public ::testing::TestWithParam<EncodeExample> {};

TEST_P(Qwen3Example, MatchesReference) {
  const Tokenizer& tok = test::qwen3();
  const json& ex = GetParam().data;
  const std::string text = ex["text"];
  const auto ids = ex["ids"].get<std::vector<int32_t>>();

  EXPECT_EQ(tok.encode(text), ids);
  EXPECT_EQ(tok.encode(text, /*parse_special=*/false), ex["ids_split_special"].get<std::vector<int32_t>>());
  EXPECT_EQ(tok.decode(ids), ex["decoded"].get<std::string>());
  EXPECT_EQ(tok.decode(ids, /*skip_special=*/true), ex["decoded_skip_special"].get<std::string>());

  const auto tokens = ex["tokens"].get<std::vector<std::string>>();
  const auto token_hex = ex["token_bytes_hex"].get<std::vector<std::string>>();
  ASSERT_EQ(tokens.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(tok.id_to_token(ids[i]), tokens[i]) << "position " << i;
    EXPECT_EQ(tok.token_to_id(tokens[i]), ids[i]) << "position " << i;
    EXPECT_EQ(hex(tok.token_bytes(ids[i])), token_hex[i]) << "position " << i;
  }

  EXPECT_EQ(stream_decode(tok, ids, false), tok.decode(ids));
  EXPECT_EQ(stream_decode(tok, ids, true), tok.decode(ids, true));
}

INSTANTIATE_TEST_SUITE_P(Examples, Qwen3Example, ::testing::ValuesIn(load_encode_examples()),
                         [](const auto& info) { return info.param.name; });

TEST(Qwen3Examples, FileHasEncodeCases) { EXPECT_GE(load_encode_examples().size(), 20u); }

// ---- llama.cpp ggml-vocab-qwen2.gguf.inp / .out ------------------------------------------------
// .inp: each input is followed by "\n__ggml_vocab_test__\n" (so the file ends with one, and an
// input may itself be empty or end in newlines). .out: line i holds the ids of input i, each
// preceded by a space (llama.cpp's writer), and is empty for an empty input.

struct VocabCase {
  size_t index = 0;
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<VocabCase> load_vocab_cases() {
  const auto dir = test::qwen3_dir() / "llamacpp-vocab-test";
  const std::string inp = test::read_text(dir / "ggml-vocab-qwen2.gguf.inp");
  const std::string out = test::read_text(dir / "ggml-vocab-qwen2.gguf.out");
  const std::string separator = "\n__ggml_vocab_test__\n";

  std::vector<VocabCase> cases;
  size_t pos = 0;
  while (pos < inp.size()) {
    const size_t end = inp.find(separator, pos);
    if (end == std::string::npos) break;  // text after the last separator: none in practice
    cases.push_back({cases.size(), inp.substr(pos, end - pos), {}});
    pos = end + separator.size();
  }
  std::istringstream lines(out);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    if (i < cases.size()) {
      std::istringstream numbers(line);
      int32_t id;
      while (numbers >> id) cases[i].ids.push_back(id);
    }
    ++i;
  }
  if (i != cases.size()) cases.clear();  // layout mismatch: the count test below reports it
  return cases;
}

class LlamaCppVocab : public ::testing::TestWithParam<VocabCase> {};

TEST_P(LlamaCppVocab, MatchesReference) {
  const Tokenizer& tok = test::qwen3();
  const VocabCase& c = GetParam();
  SCOPED_TRACE("input: \"" + c.text + "\"");
  const auto ids = tok.encode(c.text);
  EXPECT_EQ(ids, c.ids);
  EXPECT_EQ(stream_decode(tok, ids, false), tok.decode(ids));
}

INSTANTIATE_TEST_SUITE_P(Qwen2Vocab, LlamaCppVocab, ::testing::ValuesIn(load_vocab_cases()),
                         [](const auto& info) { return "case_" + std::to_string(info.param.index); });

TEST(LlamaCppVocabFile, InputAndOutputLinesAgree) {
  const auto cases = load_vocab_cases();
  EXPECT_EQ(cases.size(), 46u);
  ASSERT_GE(cases.size(), 4u);
  EXPECT_EQ(cases[2].text, "");  // an empty input maps to an empty output line
  EXPECT_TRUE(cases[2].ids.empty());
}

// ---- accessors -------------------------------------------------------------------------------

TEST(Qwen3Tokenizer, Accessors) {
  const Tokenizer& tok = test::qwen3();
  EXPECT_EQ(tok.vocab_size(), 151669);
  EXPECT_EQ(tok.eos_token_id(), 151645);
  EXPECT_EQ(tok.token_to_id("<|im_end|>"), 151645);
  EXPECT_EQ(tok.token_to_id("<think>"), 151667);
  EXPECT_EQ(tok.token_to_id("Ġworld"), 1879);
  EXPECT_EQ(tok.token_to_id("no such token"), std::nullopt);
  EXPECT_EQ(tok.id_to_token(151643), "<|endoftext|>");
  EXPECT_EQ(tok.id_to_token(151669), std::nullopt);
  EXPECT_EQ(tok.id_to_token(-1), std::nullopt);
  EXPECT_TRUE(tok.is_special(151643));
  EXPECT_TRUE(tok.is_special(151656));
  EXPECT_FALSE(tok.is_special(151657));  // <tool_call>: added, not special
  EXPECT_FALSE(tok.is_special(151667));  // <think>
  EXPECT_FALSE(tok.is_special(9707));
  EXPECT_EQ(tok.added_tokens().size(), 26u);
  // Id 256 + k is merge k; ids 0..255 are the byte symbols in bytes_to_unicode order.
  EXPECT_EQ(tok.id_to_token(0), "!");
  EXPECT_EQ(tok.id_to_token(220), "Ġ");
  EXPECT_EQ(tok.id_to_token(256), "ĠĠ");
}

}  // namespace
}  // namespace tessera

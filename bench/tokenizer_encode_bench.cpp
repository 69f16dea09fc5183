// Encode throughput of the Qwen3 tokenizer on ~1 MB of English-like text (target: >= 5 MB/s on
// one core), plus the load time of the 11 MB tokenizer.json.
//
// The text is generated from a fixed word list with a fixed-seed LCG, so every run encodes the
// same bytes: words with Zipf-like frequencies, punctuation, numbers, and paragraph breaks.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "tokenizer/tokenizer.h"

namespace {

std::filesystem::path qwen3_dir() {
  return std::filesystem::path(TESSERA_TEST_DATA_DIR) / "tokenizers/qwen3";
}

const tessera::Tokenizer& qwen3() {
  static const tessera::Tokenizer tokenizer = tessera::Tokenizer::load(qwen3_dir());
  return tokenizer;
}

std::string english_like_text(size_t bytes) {
  static constexpr std::array<const char*, 64> kWords = {
      "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be",
      "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
      "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has",
      "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "model",
      "inference", "tokenizer", "parallel", "attention", "throughput", "latency", "memory",
      "distributed", "implementation", "representation", "configuration", "experimental",
      "nevertheless", "approximately"};
  uint64_t state = 0x9E3779B97F4A7C15ull;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  std::string text;
  text.reserve(bytes + 64);
  bool sentence_start = true;
  while (text.size() < bytes) {
    // Square the uniform draw so short common words dominate, as in real prose.
    const uint32_t r = next() % 64;
    std::string word = kWords[(r * r) / 64];
    if (sentence_start) word[0] = static_cast<char>(word[0] - 'a' + 'A');
    sentence_start = false;
    text += word;
    const uint32_t p = next() % 100;
    if (p < 6) {
      text += ". ";
      sentence_start = true;
    } else if (p < 10) {
      text += ", ";
    } else if (p < 11) {
      text += " " + std::to_string(next() % 10000) + " ";
    } else if (p < 12) {
      text += ".\n\n";
      sentence_start = true;
    } else {
      text += ' ';
    }
  }
  return text;
}

void BM_EncodeEnglish1MB(benchmark::State& state) {
  const tessera::Tokenizer& tok = qwen3();
  const std::string text = english_like_text(1 << 20);
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok.encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeEnglish1MB)->Unit(benchmark::kMillisecond);

// Load time of the 11 MB tokenizer.json (JSON parse + vocab/merge tables).
void BM_LoadQwen3(benchmark::State& state) {
  for (auto _ : state) {
    auto tok = tessera::Tokenizer::load(qwen3_dir());
    benchmark::DoNotOptimize(tok.vocab_size());
  }
}
BENCHMARK(BM_LoadQwen3)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

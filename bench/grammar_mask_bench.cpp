// Cost of constrained decoding's token mask with the real Qwen3 vocabulary (151,643 BPE tokens
// + added tokens), on a realistic structured-output schema (nested object, array of objects,
// enum, integer range, nullable string, free strings).
//
// The token sequence is a fixed-seed random walk under the mask (random choices among the allowed
// tokens, biased towards closing strings and containers so documents end), i.e. what a model with
// random weights would write. Reported per generated token:
//   BM_MaskCold:  a fresh trie walk at every token (no cache): the worst case.
//   BM_MaskServed: what a request pays: one GrammarConstraint over the whole document, masks
//                  cached per matcher state, plus applying the mask to a logits row.
//   BM_TrieBuild:  the one-off cost of the vocabulary trie (once per server).
#include <benchmark/benchmark.h>

#include "engine/grammar_constraint.h"
#include "engine/json_schema_grammar.h"

#include <filesystem>
#include <random>
#include <set>
#include <string_view>
#include <vector>

namespace {

using namespace tessera;

const Tokenizer& qwen3() {
  static const Tokenizer tokenizer = Tokenizer::load(std::filesystem::path(TESSERA_TEST_DATA_DIR) / "tokenizers/qwen3");
  return tokenizer;
}

std::shared_ptr<const Grammar> schema() {
  static const auto grammar = std::make_shared<const Grammar>(json_schema_grammar(nlohmann::ordered_json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string"},
      "age": {"type": "integer", "minimum": 0, "maximum": 150},
      "email": {"type": ["string", "null"]},
      "role": {"enum": ["admin", "editor", "viewer"]},
      "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"},
                  "zip": {"type": "string", "maxLength": 10}}, "required": ["street", "city"], "additionalProperties": false},
      "orders": {"type": "array", "maxItems": 4, "items": {"type": "object", "properties": {
                  "id": {"type": "integer"}, "total": {"type": "number"}, "paid": {"type": "boolean"}},
                  "required": ["id", "total", "paid"], "additionalProperties": false}}
    },
    "required": ["name", "age", "email", "role", "address", "orders"],
    "additionalProperties": false})")));
  return grammar;
}

std::shared_ptr<const TokenTrie> trie() { return shared_token_trie(qwen3(), qwen3().vocab_size()); }

// The walk's tokens, computed once.
const std::vector<int32_t>& walk() {
  static const std::vector<int32_t> tokens = [] {
    GrammarConstraint c(schema(), trie(), qwen3());
    std::mt19937_64 rng(1234);
    std::vector<int32_t> out;
    while (!c.finished() && out.size() < 2000) {
      const TokenMask& mask = c.allowed_tokens();
      std::vector<int32_t> allowed, closing;
      for (int32_t id = 0; id < qwen3().vocab_size(); ++id) {
        if (!mask.allowed(id)) continue;
        allowed.push_back(id);
        if (qwen3().token_bytes(id).find_first_of("\"]}") != std::string_view::npos) closing.push_back(id);
      }
      const bool close = !closing.empty() && rng() % 4 == 0;
      const std::vector<int32_t>& pool = close ? closing : allowed;
      const int32_t token = pool[rng() % pool.size()];
      c.accept_token(token);
      out.push_back(token);
    }
    return out;
  }();
  return tokens;
}

void BM_MaskCold(benchmark::State& state) {
  const std::vector<int32_t>& tokens = walk();
  for (auto _ : state) {
    GrammarConstraint c(schema(), trie(), qwen3());
    for (int32_t t : tokens) {
      c.clear_cache();
      benchmark::DoNotOptimize(c.allowed_tokens());
      c.accept_token(t);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(tokens.size()));
  state.counters["tokens"] = static_cast<double>(tokens.size());
  state.counters["us_per_token"] = benchmark::Counter(static_cast<double>(state.iterations() * tokens.size()) * 1e-6,
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_MaskServed(benchmark::State& state) {
  const std::vector<int32_t>& tokens = walk();
  std::vector<float> logits(static_cast<size_t>(qwen3().vocab_size()), 0.0f);
  const std::set<int32_t> eos = {151645};
  for (auto _ : state) {
    GrammarConstraint c(schema(), trie(), qwen3());
    for (int32_t t : tokens) {
      c.mask_logits(logits, eos);
      c.accept_token(t);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(tokens.size()));
  state.counters["us_per_token"] = benchmark::Counter(static_cast<double>(state.iterations() * tokens.size()) * 1e-6,
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_TrieBuild(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(TokenTrie(qwen3(), qwen3().vocab_size()));
}

BENCHMARK(BM_MaskCold)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaskServed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrieBuild)->Unit(benchmark::kMillisecond);

}  // namespace

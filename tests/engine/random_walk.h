// Random generation under a GrammarConstraint with the real Qwen3 vocabulary: what a model with
// random weights writes when its output is constrained.
#pragma once

#include "engine/grammar_constraint.h"

#include <bit>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::testing {

inline const Tokenizer& qwen3_tokenizer() {
  static const Tokenizer tokenizer = Tokenizer::load(std::filesystem::path(TESSERA_TEST_DATA_DIR) / "tokenizers/qwen3");
  return tokenizer;
}

inline std::shared_ptr<const TokenTrie> qwen3_trie() {
  return shared_token_trie(qwen3_tokenizer(), qwen3_tokenizer().vocab_size());
}

// The k-th allowed id (k < mask.count()).
inline int32_t kth_allowed(const TokenMask& mask, int64_t k, int64_t limit) {
  for (int32_t w = 0; w * 64 < limit; ++w) {
    const int64_t here = std::popcount(mask.word(w));
    if (k < here) {
      for (int32_t id = w * 64;; ++id)
        if (mask.allowed(id) && k-- == 0) return id;
    }
    k -= here;
  }
  return -1;
}

struct Walk {
  std::string text;
  std::vector<int32_t> tokens;
  bool finished = false;
};

// Picks uniformly among the allowed tokens, except that one step in four picks among the allowed
// tokens that close something ('"', ']', '}', '>'), so documents end in a few hundred tokens.
// `on_step` (optional) sees the constraint before each choice.
template <class OnStep>
Walk random_walk(std::shared_ptr<const Grammar> grammar, std::mt19937_64& rng, size_t max_tokens, OnStep&& on_step) {
  const Tokenizer& tok = qwen3_tokenizer();
  static const std::vector<int32_t> closing = [&] {
    std::vector<int32_t> ids;
    for (int32_t id = 0; id < tok.vocab_size(); ++id)
      if (tok.is_known(id) && !tok.is_special(id) && tok.token_bytes(id).find_first_of("\"]}>") != std::string_view::npos)
        ids.push_back(id);
    return ids;
  }();
  GrammarConstraint c(std::move(grammar), qwen3_trie(), tok);
  Walk walk;
  while (!c.finished() && walk.tokens.size() < max_tokens) {
    on_step(c);
    const TokenMask& mask = c.allowed_tokens();
    int32_t token = -1;
    if (rng() % 4 == 0) {
      std::vector<int32_t> pool;
      for (int32_t id : closing)
        if (mask.allowed(id)) pool.push_back(id);
      if (!pool.empty()) token = pool[rng() % pool.size()];
    }
    if (token < 0) {
      const int64_t n = mask.count();
      if (n == 0) break;  // only EOS may follow (the caller checks accepting())
      token = kth_allowed(mask, static_cast<int64_t>(rng() % static_cast<uint64_t>(n)), qwen3_trie()->vocab_limit());
    }
    c.accept_token(token);
    walk.tokens.push_back(token);
    walk.text += tok.token_bytes(token);
  }
  walk.finished = c.matcher().accepting();
  return walk;
}

inline Walk random_walk(std::shared_ptr<const Grammar> grammar, std::mt19937_64& rng, size_t max_tokens) {
  return random_walk(std::move(grammar), rng, max_tokens, [](GrammarConstraint&) {});
}

}  // namespace tessera::testing

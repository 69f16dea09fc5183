// DecodingConstraint for a Grammar: a GrammarMatcher over the sequence's output bytes and a
// token mask computed by walking the vocabulary trie with the matcher's state.
//
// Cost: the walk visits only trie nodes whose prefix the grammar still accepts, so a state that
// allows few bytes (punctuation, a property name) is cheap, while one inside a free string visits
// most of the trie. Masks are cached per canonical matcher state (JSON output revisits the same
// states: inside a string, after each comma, ...), so a state's walk is paid once per request.
// See bench/grammar_mask_bench.cpp for the numbers.
#pragma once

#include "engine/decoding_constraint.h"
#include "engine/grammar_matcher.h"
#include "engine/token_trie.h"
#include "tokenizer/tokenizer.h"

#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

namespace tessera {

// Which tokens may come next: one bit per id below the trie's vocab_limit.
class TokenMask {
 public:
  explicit TokenMask(int64_t size) : words_(static_cast<size_t>((size + 63) / 64), 0) {}
  void allow(int32_t id) { words_[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63); }
  bool allowed(int32_t id) const { return (words_[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1; }
  int64_t count() const;

 private:
  std::vector<uint64_t> words_;
};

class GrammarConstraint : public DecodingConstraint {
 public:
  // `tokenizer` gives each accepted token's bytes and must outlive the constraint.
  GrammarConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> trie,
                    const Tokenizer& tokenizer);

  void mask_logits(std::span<float> logits, const std::set<int32_t>& eos_ids) override;
  void accept_token(int32_t token) override;
  bool finished() const override { return matcher_.finished(); }

  // The tokens allowed now, EOS aside (cached). For tests and benchmarks.
  const TokenMask& allowed_tokens();
  const GrammarMatcher& matcher() const { return matcher_; }
  // Drops the cached masks, so the next allowed_tokens() walks the trie (benchmarks).
  void clear_cache();

 private:
  struct StateHash {
    size_t operator()(const MatcherState& s) const;
  };
  TokenMask compute_mask();

  static constexpr size_t kCacheEntries = 64;  // ~19 KiB each for a 151k vocabulary

  GrammarMatcher matcher_;
  std::shared_ptr<const TokenTrie> trie_;
  const Tokenizer& tokenizer_;
  std::vector<MatcherState> walk_states_;  // by trie depth, reused between walks
  // LRU: most recent first.
  std::list<std::pair<MatcherState, TokenMask>> cache_;
  std::unordered_map<MatcherState, std::list<std::pair<MatcherState, TokenMask>>::iterator, StateHash> index_;
};

}  // namespace tessera

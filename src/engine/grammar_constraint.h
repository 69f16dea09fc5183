// DecodingConstraint for a Grammar: a GrammarMatcher over the sequence's output bytes and a
// token mask computed by walking the vocabulary trie with the matcher's state.
//
// Cost: the walk visits only trie nodes whose prefix the grammar still accepts, so a state that
// allows few bytes (punctuation, a property name) is cheap, while one inside a free string visits
// most of the trie. Two caches keep that cheap: matcher states are interned with their byte
// transitions (MatcherStateTable), so most trie nodes cost an array lookup rather than a matcher
// step, and whole masks are kept per canonical matcher state (JSON output revisits the same
// states: inside a string, after each comma, ...). See bench/grammar_mask_bench.cpp.
#pragma once

#include "engine/decoding_constraint.h"
#include "engine/grammar_matcher.h"
#include "engine/token_trie.h"
#include "tokenizer/tokenizer.h"

#include <array>
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
  uint64_t word(int32_t index) const { return words_[static_cast<size_t>(index)]; }  // ids 64*index..

 private:
  std::vector<uint64_t> words_;
};

// The matcher states a request has met, interned, with their byte transitions filled in as the
// trie walks need them: a walk then costs one array lookup per trie node, and a matcher step only
// the first time a (state, byte) pair comes up.
class MatcherStateTable {
 public:
  static constexpr int32_t kDead = -1;
  struct Hash {
    size_t operator()(const MatcherState& s) const;
  };
  explicit MatcherStateTable(std::shared_ptr<const Grammar> grammar) : grammar_(std::move(grammar)) {}
  int32_t intern(const MatcherState& canonical_state);
  int32_t next(int32_t state, uint8_t byte) {
    const int32_t to = next_[static_cast<size_t>(state)][byte];
    if (to != kUnknown) return to;
    const int32_t computed = compute_next(state, byte);  // may grow next_: index again after
    next_[static_cast<size_t>(state)][byte] = computed;
    return computed;
  }
  size_t size() const { return states_.size(); }
  void clear();

 private:
  static constexpr int32_t kUnknown = -2;
  int32_t compute_next(int32_t state, uint8_t byte);

  std::shared_ptr<const Grammar> grammar_;
  std::vector<MatcherState> states_;
  std::vector<std::array<int32_t, 256>> next_;
  std::unordered_map<MatcherState, int32_t, Hash> ids_;
  MatcherState scratch_;
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
  TokenMask compute_mask(const MatcherState& canonical_state);

  static constexpr size_t kCacheEntries = 64;  // ~19 KiB each for a 151k vocabulary

  GrammarMatcher matcher_;
  std::shared_ptr<const TokenTrie> trie_;
  const Tokenizer& tokenizer_;
  MatcherStateTable table_;
  std::vector<int32_t> walk_states_;  // by trie depth: table ids
  // LRU: most recent first.
  std::list<std::pair<MatcherState, TokenMask>> cache_;
  std::unordered_map<MatcherState, std::list<std::pair<MatcherState, TokenMask>>::iterator, MatcherStateTable::Hash> index_;
};

// A constraint for one sequence on `tokenizer`'s vocabulary (the shared trie of all its ids),
// e.g. make_grammar_constraint(tool_call_grammar(...), tokenizer) for a forced tool call.
std::shared_ptr<DecodingConstraint> make_grammar_constraint(Grammar grammar, const Tokenizer& tokenizer);

}  // namespace tessera

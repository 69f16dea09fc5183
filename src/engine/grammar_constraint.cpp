#include "engine/grammar_constraint.h"

#include "util/error.h"

#include <bit>
#include <cmath>
#include <string_view>

namespace tessera {

int64_t TokenMask::count() const {
  int64_t n = 0;
  for (uint64_t w : words_) n += std::popcount(w);
  return n;
}

size_t MatcherStateTable::Hash::operator()(const MatcherState& s) const {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the positions
  for (uint32_t v : s) h = (h ^ v) * 1099511628211ull;
  return static_cast<size_t>(h);
}

int32_t MatcherStateTable::intern(const MatcherState& canonical_state) {
  auto [it, added] = ids_.emplace(canonical_state, static_cast<int32_t>(states_.size()));
  if (added) {
    states_.push_back(canonical_state);
    next_.emplace_back();
    next_.back().fill(kUnknown);
  }
  return it->second;
}

int32_t MatcherStateTable::compute_next(int32_t state, uint8_t byte) {
  if (!GrammarMatcher::step(*grammar_, states_[static_cast<size_t>(state)], byte, scratch_)) return kDead;
  return intern(GrammarMatcher::canonical(scratch_));
}

void MatcherStateTable::clear() {
  states_.clear();
  next_.clear();
  ids_.clear();
}

GrammarConstraint::GrammarConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> trie,
                                     const Tokenizer& tokenizer)
    : matcher_(grammar), trie_(std::move(trie)), tokenizer_(tokenizer), table_(std::move(grammar)) {
  walk_states_.resize(static_cast<size_t>(trie_->max_depth()) + 1);
}

TokenMask GrammarConstraint::compute_mask(const MatcherState& canonical_state) {
  // Bounds the table's memory (1 KiB of transitions per state, so 4 MiB) in long generations.
  constexpr size_t kMaxStates = 1 << 12;
  if (table_.size() > kMaxStates) table_.clear();
  TokenMask mask(trie_->vocab_limit());
  const std::vector<TokenTrie::Node>& nodes = trie_->nodes();
  walk_states_[0] = table_.intern(canonical_state);
  for (uint32_t i = 1; i < nodes.size();) {
    const TokenTrie::Node& node = nodes[i];
    const int32_t next = table_.next(walk_states_[node.depth - 1], node.byte);
    if (next == MatcherStateTable::kDead) {
      i = node.subtree_end;
      continue;
    }
    walk_states_[node.depth] = next;
    for (int32_t id : trie_->tokens_at(node)) mask.allow(id);
    ++i;
  }
  return mask;
}

const TokenMask& GrammarConstraint::allowed_tokens() {
  MatcherState key = matcher_.canonical_state();
  if (auto it = index_.find(key); it != index_.end()) {
    cache_.splice(cache_.begin(), cache_, it->second);
    return cache_.front().second;
  }
  cache_.emplace_front(key, compute_mask(key));
  index_.emplace(std::move(key), cache_.begin());
  if (cache_.size() > kCacheEntries) {
    index_.erase(cache_.back().first);
    cache_.pop_back();
  }
  return cache_.front().second;
}

void GrammarConstraint::clear_cache() {
  index_.clear();
  cache_.clear();
  table_.clear();
}

void GrammarConstraint::mask_logits(std::span<float> logits, const std::set<int32_t>& eos_ids) {
  // EOS ids are special tokens, outside the trie: keep their logits when the output is complete.
  std::vector<std::pair<size_t, float>> eos_logits;
  if (matcher_.accepting())
    for (int32_t eos : eos_ids)
      if (eos >= 0 && static_cast<size_t>(eos) < logits.size()) eos_logits.emplace_back(eos, logits[static_cast<size_t>(eos)]);
  const TokenMask& mask = allowed_tokens();
  // Byte-level vocabularies hold every single byte, so a live matcher always has a token.
  if (eos_logits.empty() && mask.count() == 0) fail("constrained decoding: no token can continue the output");
  const auto limit = static_cast<int32_t>(std::min<int64_t>(trie_->vocab_limit(), static_cast<int64_t>(logits.size())));
  for (int32_t word = 0; word * 64 < limit; ++word) {
    if (mask.word(word) == ~uint64_t{0}) continue;  // inside a string most words are all allowed
    for (int32_t id = word * 64; id < std::min(limit, word * 64 + 64); ++id)
      if (!mask.allowed(id)) logits[static_cast<size_t>(id)] = -INFINITY;
  }
  for (size_t id = static_cast<size_t>(limit); id < logits.size(); ++id) logits[id] = -INFINITY;
  for (const auto& [id, value] : eos_logits) logits[id] = value;
}

void GrammarConstraint::accept_token(int32_t token) {
  TS_CHECK(tokenizer_.is_known(token) && !tokenizer_.is_special(token), "constrained decoding sampled token {}, which the mask excludes", token);
  const std::string_view bytes = tokenizer_.token_bytes(token);
  TS_CHECK(matcher_.advance(bytes), "constrained decoding sampled token {}, which the grammar rejects", token);
}

std::shared_ptr<DecodingConstraint> make_grammar_constraint(Grammar grammar, const Tokenizer& tokenizer) {
  return std::make_shared<GrammarConstraint>(std::make_shared<const Grammar>(std::move(grammar)),
                                             shared_token_trie(tokenizer, tokenizer.vocab_size()), tokenizer);
}

}  // namespace tessera

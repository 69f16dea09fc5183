// Incremental recogniser for a Grammar, fed one byte at a time: a pushdown automaton that keeps
// every parse still possible (a set of stacks, as llama.cpp's GBNF matcher does).
//
// A stack lists grammar positions (indices into Grammar::elements), the top last. After every
// step each stack is normalised: rule references on top are expanded into their alternatives
// (one stack per alternative), finished alternatives are popped, until the top is a byte class.
// An empty stack means the input so far is a complete sentence. A return position that would
// only pop (the reference was last in its alternative) is not pushed, so right recursion, which
// is how repetition is built, runs in constant depth.
//
// The state is a flat vector: for each stack, its length followed by its positions, duplicates
// removed. Copying a state is copying that vector, which is what the token-mask walk does at
// every trie node, so it is kept allocation-free once buffers have grown.
#pragma once

#include "engine/grammar.h"

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace tessera {

using MatcherState = std::vector<uint32_t>;

class GrammarMatcher {
 public:
  // At the start of the grammar's root rule.
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // Consumes `byte`. Returns false, leaving the matcher unchanged, if no parse can take it.
  bool advance(uint8_t byte);
  // All of `bytes` or nothing.
  bool advance(std::string_view bytes);

  bool accepting() const { return accepting(state_); }   // the input so far is a full sentence
  bool can_continue() const { return can_continue(state_); }  // some byte may follow
  bool finished() const { return accepting() && !can_continue(); }
  // The bytes advance() would take now.
  ByteClass next_bytes() const;

  const Grammar& grammar() const { return *grammar_; }
  // The state, with its stacks in a canonical order (so equal states compare equal).
  MatcherState canonical_state() const;
  const MatcherState& state() const { return state_; }

  // The building blocks of the token-mask walk, on raw states. step() returns whether `to` is
  // alive; `to` is overwritten (its capacity reused).
  static bool step(const Grammar& grammar, const MatcherState& from, uint8_t byte, MatcherState& to);
  static bool accepting(const MatcherState& state);
  static bool can_continue(const MatcherState& state);
  static MatcherState canonical(const MatcherState& state);

 private:
  std::shared_ptr<const Grammar> grammar_;
  MatcherState state_, scratch_;
};

}  // namespace tessera

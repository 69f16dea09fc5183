// Helpers shared by the grammar tests.
#pragma once

#include "engine/grammar.h"
#include "engine/grammar_matcher.h"

#include <memory>
#include <string_view>

namespace tessera::testing {

// Whether `text` is a complete sentence of `grammar`.
inline bool matches(const std::shared_ptr<const Grammar>& grammar, std::string_view text) {
  GrammarMatcher m(grammar);
  return m.advance(text) && m.accepting();
}

// Whether `text` can be continued into a sentence (the matcher stays alive).
inline bool viable_prefix(const std::shared_ptr<const Grammar>& grammar, std::string_view text) {
  GrammarMatcher m(grammar);
  return m.advance(text);
}

inline std::shared_ptr<const Grammar> share(Grammar g) { return std::make_shared<const Grammar>(std::move(g)); }

}  // namespace tessera::testing

#include "engine/grammar_matcher.h"

#include "util/error.h"

#include <algorithm>

namespace tessera {
namespace {

using Element = Grammar::Element;

// Deep enough for any JSON Schema nesting we accept; deeper means runaway recursion.
constexpr size_t kMaxStackDepth = 4096;
// Expansions in one normalisation; more means a cycle that reads no byte.
constexpr int kMaxExpansions = 1 << 20;

// True if the last segment of `state` (starting at `start`) equals an earlier one.
bool duplicate_of_earlier(const MatcherState& state, size_t start) {
  const uint32_t len = state[start];
  for (size_t s = 0; s < start; s += state[s] + 1)
    if (state[s] == len && std::equal(state.begin() + static_cast<std::ptrdiff_t>(s + 1),
                                      state.begin() + static_cast<std::ptrdiff_t>(s + 1 + len),
                                      state.begin() + static_cast<std::ptrdiff_t>(start + 1)))
      return true;
  return false;
}

// Appends to `to` the normalised stacks of `base` + [pos] (base: bottom first, no length
// prefix). Forks wait in `pending` as [positions..., length] segments.
void push_normalized(const Grammar& g, const uint32_t* base, uint32_t base_len, uint32_t pos, MatcherState& to) {
  thread_local std::vector<uint32_t> pending;
  pending.clear();
  pending.insert(pending.end(), base, base + base_len);
  pending.push_back(pos);
  pending.push_back(base_len + 1);
  int expansions = 0;
  while (!pending.empty()) {
    const uint32_t len = pending.back();
    const size_t begin = pending.size() - 1 - len;
    const size_t start = to.size();
    to.push_back(0);
    to.insert(to.end(), pending.begin() + static_cast<std::ptrdiff_t>(begin), pending.end() - 1);
    pending.resize(begin);
    while (to.size() > start + 1) {
      const uint32_t p = to.back();
      const Element& el = g.elements[p];
      if (el.kind == Element::kBytes) break;
      to.pop_back();
      if (el.kind == Element::kEnd) continue;
      if (++expansions > kMaxExpansions) fail("grammar: rule '{}' expands without reading a byte", g.rule_names[el.index]);
      if (g.elements[p + 1].kind != Element::kEnd) to.push_back(p + 1);
      if (to.size() - start > kMaxStackDepth) fail("grammar: nesting deeper than {} (left recursion in rule '{}'?)", kMaxStackDepth, g.rule_names[el.index]);
      const std::vector<uint32_t>& alts = g.rule_alternatives[static_cast<size_t>(el.index)];
      for (size_t a = alts.size(); a-- > 1;) {
        pending.insert(pending.end(), to.begin() + static_cast<std::ptrdiff_t>(start + 1), to.end());
        pending.push_back(alts[a]);
        pending.push_back(static_cast<uint32_t>(to.size() - start));
      }
      to.push_back(alts[0]);
    }
    to[start] = static_cast<uint32_t>(to.size() - start - 1);
    if (duplicate_of_earlier(to, start)) to.resize(start);
  }
}

}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar) : grammar_(std::move(grammar)) {
  for (uint32_t alt : grammar_->rule_alternatives[static_cast<size_t>(grammar_->root)])
    push_normalized(*grammar_, nullptr, 0, alt, state_);
}

bool GrammarMatcher::step(const Grammar& g, const MatcherState& from, uint8_t byte, MatcherState& to) {
  to.clear();
  for (size_t s = 0; s < from.size(); s += from[s] + 1) {
    const uint32_t len = from[s];
    if (len == 0) continue;  // a finished parse takes no more bytes
    const uint32_t top = from[s + len];
    if (!g.classes[static_cast<size_t>(g.elements[top].index)].contains(byte)) continue;
    push_normalized(g, from.data() + s + 1, len - 1, top + 1, to);
  }
  return !to.empty();
}

bool GrammarMatcher::accepting(const MatcherState& state) {
  for (size_t s = 0; s < state.size(); s += state[s] + 1)
    if (state[s] == 0) return true;
  return false;
}

bool GrammarMatcher::can_continue(const MatcherState& state) {
  for (size_t s = 0; s < state.size(); s += state[s] + 1)
    if (state[s] != 0) return true;
  return false;
}

bool GrammarMatcher::advance(uint8_t byte) {
  if (!step(*grammar_, state_, byte, scratch_)) return false;
  state_.swap(scratch_);
  return true;
}

bool GrammarMatcher::advance(std::string_view bytes) {
  MatcherState saved = state_;
  for (char c : bytes) {
    if (!advance(static_cast<uint8_t>(c))) {
      state_ = std::move(saved);
      return false;
    }
  }
  return true;
}

ByteClass GrammarMatcher::next_bytes() const {
  ByteClass out;
  for (size_t s = 0; s < state_.size(); s += state_[s] + 1) {
    if (state_[s] == 0) continue;
    const ByteClass& cls = grammar_->classes[static_cast<size_t>(grammar_->elements[state_[s + state_[s]]].index)];
    for (int b = 0; b < 256; ++b)
      if (cls.contains(static_cast<uint8_t>(b))) out.add(static_cast<uint8_t>(b));
  }
  return out;
}

MatcherState GrammarMatcher::canonical_state() const { return canonical(state_); }

MatcherState GrammarMatcher::canonical(const MatcherState& state) {
  std::vector<std::vector<uint32_t>> stacks;
  for (size_t s = 0; s < state.size(); s += state[s] + 1)
    stacks.emplace_back(state.begin() + static_cast<std::ptrdiff_t>(s), state.begin() + static_cast<std::ptrdiff_t>(s + 1 + state[s]));
  std::sort(stacks.begin(), stacks.end());
  MatcherState out;
  for (const auto& st : stacks) out.insert(out.end(), st.begin(), st.end());
  return out;
}

}  // namespace tessera

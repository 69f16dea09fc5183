// GrammarMatcher on hand-written grammars: what it accepts, rejects, and when it is finished.
#include "engine/grammar_matcher.h"

#include "grammar_test_util.h"
#include "util/error.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

using testing::matches;
using testing::share;
using testing::viable_prefix;
using E = GrammarExpr;

TEST(GrammarMatcher, LiteralsChoicesAndSequences) {
  GrammarBuilder b;
  const int32_t root = b.add("root", E::sequence({E::literal("a"), E::choice({E::literal("bc"), E::literal("bd"), E::literal("e")}), E::literal("!")}));
  auto g = share(b.build(root));
  EXPECT_TRUE(matches(g, "abc!"));
  EXPECT_TRUE(matches(g, "abd!"));
  EXPECT_TRUE(matches(g, "ae!"));
  EXPECT_FALSE(matches(g, "ab!"));
  EXPECT_FALSE(matches(g, "abc"));     // alive but incomplete
  EXPECT_TRUE(viable_prefix(g, "abc"));
  EXPECT_FALSE(viable_prefix(g, "ax"));
  EXPECT_FALSE(matches(g, "abc!!"));
}

TEST(GrammarMatcher, BoundedAndUnboundedRepetition) {
  GrammarBuilder b;
  const int32_t root = b.add("root", E::sequence({E::repeat(E::literal("x"), 2, 4), E::literal("-"), E::repeat(E::literal("y"), 0, E::kUnbounded)}));
  auto g = share(b.build(root));
  EXPECT_FALSE(matches(g, "x-"));
  EXPECT_TRUE(matches(g, "xx-"));
  EXPECT_TRUE(matches(g, "xxxx-"));
  EXPECT_FALSE(matches(g, "xxxxx-"));
  EXPECT_TRUE(matches(g, "xxx-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"));
  // Long right-recursive repetition keeps the stacks shallow.
  GrammarMatcher m(g);
  ASSERT_TRUE(m.advance("xx-"));
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(m.advance('y'));
  EXPECT_LT(m.state().size(), 16u);
}

TEST(GrammarMatcher, FinishedOnlyWhenNothingMayFollow) {
  GrammarBuilder b;
  const int32_t root = b.add("root", E::sequence({E::literal("a"), E::optional(E::literal("b"))}));
  auto g = share(b.build(root));
  GrammarMatcher m(g);
  EXPECT_FALSE(m.accepting());
  ASSERT_TRUE(m.advance('a'));
  EXPECT_TRUE(m.accepting());
  EXPECT_TRUE(m.can_continue());
  EXPECT_FALSE(m.finished());
  EXPECT_FALSE(m.advance('c'));  // a rejected byte leaves the state as it was
  EXPECT_TRUE(m.accepting());
  ASSERT_TRUE(m.advance('b'));
  EXPECT_TRUE(m.finished());
}

TEST(GrammarMatcher, RecursiveRulesAndNextBytes) {
  // balanced parentheses: P ::= "(" P ")" P | ε
  GrammarBuilder b;
  const int32_t p = b.declare("parens");
  b.define(p, E::choice({E::sequence({E::literal("("), E::rule(p), E::literal(")"), E::rule(p)}), E::empty()}));
  const int32_t root = b.add("root", E::sequence({E::rule(p), E::literal(".")}));
  auto g = share(b.build(root));
  EXPECT_TRUE(matches(g, "."));
  EXPECT_TRUE(matches(g, "(()())()."));
  EXPECT_FALSE(matches(g, "(()."));
  EXPECT_FALSE(matches(g, "())."));
  GrammarMatcher m(g);
  ASSERT_TRUE(m.advance("(("));
  const ByteClass next = m.next_bytes();
  EXPECT_TRUE(next.contains('('));
  EXPECT_TRUE(next.contains(')'));
  EXPECT_FALSE(next.contains('.'));
}

TEST(GrammarMatcher, AmbiguityDoesNotMultiplyStacks) {
  // Two identical options: the duplicate parses collapse into one stack.
  GrammarBuilder b;
  const E item = E::choice({E::literal("a"), E::literal("a")});
  const int32_t root = b.add("root", E::repeat(item, 0, E::kUnbounded));
  auto g = share(b.build(root));
  GrammarMatcher m(g);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(m.advance('a'));
  EXPECT_LT(m.state().size(), 16u);
}

TEST(GrammarBuilder, RefusesUnboundedRepetitionOfEmptyItem) {
  GrammarBuilder b;
  const int32_t root = b.add("root", E::repeat(E::optional(E::literal("a")), 0, E::kUnbounded));
  EXPECT_THROW(b.build(root), Error);
}

TEST(GrammarBuilder, RefusesUndefinedRule) {
  GrammarBuilder b;
  const int32_t missing = b.declare("missing");
  const int32_t root = b.add("root", E::rule(missing));
  EXPECT_THROW(b.build(root), Error);
}

}  // namespace
}  // namespace tessera

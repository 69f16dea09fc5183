// The prefix cache's index: longest block-aligned prefix, LRU eviction under the byte budget,
// and hash collisions told apart by the tokens.
#include "engine/prefix_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace tessera {
namespace {

constexpr int64_t B = PrefixCache::kBlockTokens;

std::vector<int32_t> tokens(int64_t n, int32_t first = 0) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

std::span<const int32_t> head(const std::vector<int32_t>& t, int64_t n) { return {t.data(), static_cast<size_t>(n)}; }

TEST(PrefixCache, FindsTheLongestCachedBlockPrefix) {
  PrefixCache cache(1000);
  const std::vector<int32_t> prompt = tokens(5 * B + 10);
  EXPECT_EQ(cache.longest_prefix(prompt, 5 * B + 9).tokens, 0);
  EXPECT_TRUE(cache.insert(head(prompt, B), 11, 10).empty());
  EXPECT_TRUE(cache.insert(head(prompt, 3 * B), 12, 10).empty());
  const PrefixCache::Hit hit = cache.longest_prefix(prompt, 5 * B + 9);
  EXPECT_EQ(hit.id, 12);
  EXPECT_EQ(hit.tokens, 3 * B);
  // A prompt that diverges inside block 2 can only use block 1.
  std::vector<int32_t> other = prompt;
  other[static_cast<size_t>(B + 5)] = -7;
  EXPECT_EQ(cache.longest_prefix(other, 5 * B).id, 11);
  // max_tokens keeps a token to compute: a prompt of exactly 3 blocks resumes after block 1.
  EXPECT_EQ(cache.longest_prefix(head(prompt, 3 * B), 3 * B - 1).tokens, B);
}

TEST(PrefixCache, EvictsLeastRecentlyUsedUnderTheBudget) {
  PrefixCache cache(100);
  const std::vector<int32_t> a = tokens(B, 0), b = tokens(B, 1000), c = tokens(B, 2000);
  EXPECT_TRUE(cache.insert(a, 1, 40).empty());
  EXPECT_TRUE(cache.insert(b, 2, 40).empty());
  EXPECT_TRUE(cache.contains(a));  // a is now more recent than b
  EXPECT_EQ(cache.insert(c, 3, 40), std::vector<int64_t>{2});
  EXPECT_EQ(cache.bytes(), 80);
  EXPECT_FALSE(cache.contains(b));
  EXPECT_TRUE(cache.contains(a) && cache.contains(c));
  // A snapshot larger than the whole budget is refused (its own id comes back to be dropped).
  EXPECT_EQ(cache.insert(tokens(B, 3000), 4, 101), std::vector<int64_t>{4});
  EXPECT_EQ(cache.size(), 2u);
  // Re-inserting a cached prefix keeps the old snapshot and drops the new copy.
  EXPECT_EQ(cache.insert(a, 5, 40), std::vector<int64_t>{5});
  // One large insert evicts several.
  std::vector<int64_t> dropped = cache.insert(tokens(B, 4000), 6, 100);
  std::sort(dropped.begin(), dropped.end());
  EXPECT_EQ(dropped, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(cache.bytes(), 100);
  // make_room evicts before a snapshot is taken; one over the budget evicts nothing.
  EXPECT_TRUE(cache.make_room(101).empty());
  EXPECT_EQ(cache.make_room(30), std::vector<int64_t>{6});
  EXPECT_EQ(cache.bytes(), 0);
}

TEST(PrefixCache, HashCollisionsAreToldApartByTokens) {
  // Every block hashes the same, so every prefix of the same length collides.
  PrefixCache cache(1000, [](uint64_t previous, std::span<const int32_t>) { return previous + 1; });
  const std::vector<int32_t> a = tokens(2 * B, 0), b = tokens(2 * B, 500);
  EXPECT_TRUE(cache.insert(a, 1, 10).empty());
  EXPECT_EQ(cache.longest_prefix(b, 2 * B).tokens, 0);
  EXPECT_FALSE(cache.contains(b));
  EXPECT_TRUE(cache.insert(b, 2, 10).empty());
  EXPECT_EQ(cache.longest_prefix(b, 2 * B).id, 2);
  EXPECT_EQ(cache.longest_prefix(a, 2 * B).id, 1);
  EXPECT_EQ(cache.insert(tokens(2 * B, 900), 3, 991).size(), 2u);  // evicting colliding entries keeps the rest consistent
  EXPECT_EQ(cache.longest_prefix(a, 2 * B).tokens, 0);
  EXPECT_EQ(cache.longest_prefix(tokens(2 * B, 900), 2 * B).id, 3);
}

TEST(PrefixCache, ZeroBudgetDisablesIt) {
  PrefixCache cache(0);
  EXPECT_FALSE(cache.enabled());
  EXPECT_EQ(cache.insert(tokens(B), 1, 1), std::vector<int64_t>{1});
  EXPECT_EQ(cache.longest_prefix(tokens(2 * B), 2 * B).tokens, 0);
}

}  // namespace
}  // namespace tessera

#include "engine/prefix_cache.h"

#include "util/error.h"

#include <algorithm>

namespace tessera {

PrefixCache::PrefixCache(int64_t budget_bytes, BlockHash hash)
    : budget_bytes_(std::max<int64_t>(budget_bytes, 0)), hash_(std::move(hash)) {}

uint64_t PrefixCache::default_block_hash(uint64_t previous, std::span<const int32_t> block) {
  // FNV-1a over the token ids, seeded with the previous block's hash; collisions are caught by
  // the token comparison, so speed matters more than strength here.
  uint64_t h = previous ^ 0xcbf29ce484222325ULL;
  for (int32_t token : block) {
    h ^= static_cast<uint32_t>(token);
    h *= 0x100000001b3ULL;
  }
  return h;
}

PrefixCache::Lru::iterator PrefixCache::find(uint64_t hash, std::span<const int32_t> prefix) {
  auto [first, last] = by_hash_.equal_range(hash);
  for (auto it = first; it != last; ++it) {
    const std::vector<int32_t>& tokens = it->second->tokens;
    if (std::equal(tokens.begin(), tokens.end(), prefix.begin(), prefix.end())) return it->second;
  }
  return lru_.end();
}

PrefixCache::Hit PrefixCache::longest_prefix(std::span<const int32_t> prompt, int64_t max_tokens) {
  if (!enabled() || lru_.empty()) return {};
  const int64_t blocks = std::min<int64_t>(max_tokens, static_cast<int64_t>(prompt.size())) / kBlockTokens;
  std::vector<uint64_t> chain(static_cast<size_t>(blocks));
  uint64_t h = 0;
  for (int64_t b = 0; b < blocks; ++b)
    chain[static_cast<size_t>(b)] = h = hash_(h, prompt.subspan(static_cast<size_t>(b * kBlockTokens), kBlockTokens));
  for (int64_t b = blocks; b >= 1; --b) {
    const auto it = find(chain[static_cast<size_t>(b - 1)], prompt.first(static_cast<size_t>(b * kBlockTokens)));
    if (it == lru_.end()) continue;
    touch(it);
    return {it->id, b * kBlockTokens};
  }
  return {};
}

uint64_t PrefixCache::chain_hash(std::span<const int32_t> prefix) const {
  uint64_t h = 0;
  for (size_t b = 0; b + kBlockTokens <= prefix.size(); b += kBlockTokens) h = hash_(h, prefix.subspan(b, kBlockTokens));
  return h;
}

bool PrefixCache::contains(std::span<const int32_t> prefix) {
  if (prefix.size() % kBlockTokens != 0) return false;
  const auto it = find(chain_hash(prefix), prefix);
  if (it == lru_.end()) return false;
  touch(it);
  return true;
}

std::vector<int64_t> PrefixCache::insert(std::span<const int32_t> prefix, int64_t id, int64_t bytes) {
  TS_CHECK(!prefix.empty() && prefix.size() % kBlockTokens == 0, "prefix cache: a snapshot covers whole 64-token blocks");
  if (bytes > budget_bytes_ || contains(prefix)) return {id};
  const uint64_t h = chain_hash(prefix);
  std::vector<int64_t> dropped = make_room(bytes);
  lru_.push_front({id, h, std::vector<int32_t>(prefix.begin(), prefix.end()), bytes});
  by_hash_.emplace(h, lru_.begin());
  bytes_ += bytes;
  return dropped;
}

std::vector<int64_t> PrefixCache::make_room(int64_t bytes) {
  std::vector<int64_t> dropped;
  if (bytes > budget_bytes_) return dropped;
  while (bytes_ + bytes > budget_bytes_) {
    dropped.push_back(lru_.back().id);
    erase(std::prev(lru_.end()));
  }
  return dropped;
}

void PrefixCache::erase(Lru::iterator it) {
  auto [first, last] = by_hash_.equal_range(it->hash);
  for (auto h = first; h != last; ++h)
    if (h->second == it) {
      by_hash_.erase(h);
      break;
    }
  bytes_ -= it->bytes;
  lru_.erase(it);
}

}  // namespace tessera

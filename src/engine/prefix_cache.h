// The prefix cache's index, kept on rank 0: which token prefixes have a state snapshot, under
// which id, and which to evict. The snapshots themselves live on every rank, each rank holding
// its own shard (LockstepEngine::snapshot/restore/drop); this class only decides.
//
// Why snapshots and not only KV blocks: a Gated DeltaNet layer's state (recurrent S and conv
// window) summarises the whole prefix and cannot be rolled back, so a prefix is reusable only
// as the complete state at its end. Snapshots are taken at multiples of kBlockTokens, where
// the chunked delta rule's 64-token chunks start (so a restored sequence computes the rest
// exactly as it would have from scratch: bit-identical results).
//
// Keys: a hash chain over 64-token blocks (h_i = mix(h_{i-1}, block i)), so the hashes of every
// block-aligned prefix of a prompt come from one pass. A hit is confirmed by comparing tokens,
// so a hash collision can cost a lookup, never a wrong state. Eviction: least recently used
// (looked up or inserted) first, until the snapshot bytes fit the budget.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

namespace tessera {

class PrefixCache {
 public:
  static constexpr int64_t kBlockTokens = 64;
  // The hash of one block given the chain's previous hash; replaceable so tests can force
  // collisions.
  using BlockHash = std::function<uint64_t(uint64_t previous, std::span<const int32_t> block)>;

  explicit PrefixCache(int64_t budget_bytes, BlockHash hash = default_block_hash);

  bool enabled() const { return budget_bytes_ > 0; }
  int64_t budget_bytes() const { return budget_bytes_; }
  int64_t bytes() const { return bytes_; }
  size_t size() const { return lru_.size(); }

  struct Hit {
    int64_t id = 0;
    int64_t tokens = 0;  // 0: no hit
  };
  // The longest cached prefix of `prompt` that is at most `max_tokens` long (callers pass
  // prompt.size() - 1 so at least one token is left to compute logits from). Marks it used.
  Hit longest_prefix(std::span<const int32_t> prompt, int64_t max_tokens);

  // Whether exactly this prefix is cached (marks it used, so the copy about to be taken is
  // skipped and the entry stays fresh).
  bool contains(std::span<const int32_t> prefix);

  // A fresh id for a snapshot about to be taken.
  int64_t next_id() { return next_id_++; }
  // Before taking a snapshot of `bytes`: evicts least recently used entries until it will fit,
  // so memory never holds more than the budget. Returns the ids to drop (empty, and nothing
  // evicted, when `bytes` alone exceeds the budget: the snapshot should not be taken).
  std::vector<int64_t> make_room(int64_t bytes);
  // Records snapshot `id` of `prefix` (a whole number of blocks) taking `bytes`, evicting least
  // recently used entries until the total fits the budget. Returns the ids to drop, which are
  // just `id` when it alone exceeds the budget or the prefix is already cached.
  std::vector<int64_t> insert(std::span<const int32_t> prefix, int64_t id, int64_t bytes);

  static uint64_t default_block_hash(uint64_t previous, std::span<const int32_t> block);

 private:
  struct Entry {
    int64_t id;
    uint64_t hash;
    std::vector<int32_t> tokens;
    int64_t bytes;
  };
  using Lru = std::list<Entry>;  // most recently used first

  uint64_t chain_hash(std::span<const int32_t> prefix) const;  // of its whole blocks
  Lru::iterator find(uint64_t hash, std::span<const int32_t> prefix);
  void touch(Lru::iterator it) { lru_.splice(lru_.begin(), lru_, it); }
  void erase(Lru::iterator it);

  int64_t budget_bytes_;
  BlockHash hash_;
  Lru lru_;
  std::unordered_multimap<uint64_t, Lru::iterator> by_hash_;
  int64_t bytes_ = 0;
  int64_t next_id_ = 1;
};

}  // namespace tessera

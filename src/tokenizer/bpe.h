// Byte-level BPE model (HF models/bpe): a word's bytes start as single-byte tokens and the pair
// with the lowest merge rank is merged until no listed pair remains. Ties go to the leftmost pair.
//
// The merge loop is HF's word.rs `merge_all`: a min-heap of (rank, position) candidates over a
// doubly linked list of symbols, O(n log n) per word, so one very long word (a 1 MB run of
// punctuation) stays fast. Stale heap entries are dropped exactly as HF drops them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/word_cache.h"

namespace tessera {

struct BpeMerge {
  int32_t left = 0;    // token ids of the pair
  int32_t right = 0;
  int32_t merged = 0;  // id of the token left+right
};

struct BpeOptions {
  // HF "ignore_merges": a word that is itself in the vocab becomes that one token.
  bool ignore_merges = false;
  size_t cache_capacity = 1 << 16;  // words
  size_t max_cached_word = 256;     // bytes; longer words are rare and not worth keeping
};

class Bpe {
 public:
  // byte_ids[b]: id of the token for the single byte b. merges: in rank order (rank = index).
  // whole_words: raw bytes -> id of every vocab entry; used only with ignore_merges.
  Bpe(const std::array<int32_t, 256>& byte_ids, const std::vector<BpeMerge>& merges,
      std::unordered_map<std::string, int32_t> whole_words, BpeOptions options);

  // Appends the ids of one pre-tokenized word (raw bytes, non-empty) to `out`. Thread-safe.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

 private:
  struct MergeInfo {
    int32_t rank;
    int32_t merged;
  };
  // find_merge is the inner loop of BPE, so merges live in an open-addressing table (linear
  // probing, at most half full): usually one cache miss per lookup instead of a node chase.
  struct MergeSlot {
    uint64_t key = kEmptyKey;
    MergeInfo info{};
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};  // ids are >= 0, so never a real key
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }
  size_t slot_of(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> merge_shift_);
  }
  const MergeInfo* find_merge(int32_t left, int32_t right) const;
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  std::array<int32_t, 256> byte_ids_;
  std::vector<MergeSlot> merge_slots_;  // size 2^(64 - merge_shift_)
  int merge_shift_ = 64;
  std::unordered_map<std::string, int32_t> whole_words_;
  BpeOptions options_;
  std::unique_ptr<WordCache> cache_;  // behind a pointer: keeps Bpe movable (mutex inside)
};

}  // namespace tessera

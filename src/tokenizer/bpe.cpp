#include "tokenizer/bpe.h"

#include <algorithm>
#include <bit>

namespace tessera {

Bpe::Bpe(const std::array<int32_t, 256>& byte_ids, const std::vector<BpeMerge>& merges,
         std::unordered_map<std::string, int32_t> whole_words, BpeOptions options)
    : byte_ids_(byte_ids),
      whole_words_(std::move(whole_words)),
      options_(options),
      cache_(std::make_unique<WordCache>(options.cache_capacity)) {
  size_t slots = 16;
  while (slots < 2 * merges.size()) slots *= 2;
  merge_slots_.assign(slots, MergeSlot{});
  merge_shift_ = 64 - std::countr_zero(slots);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const BpeMerge& m = merges[rank];
    const uint64_t key = pair_key(m.left, m.right);
    size_t slot = slot_of(key);
    while (merge_slots_[slot].key != kEmptyKey && merge_slots_[slot].key != key) {
      slot = (slot + 1) & (slots - 1);
    }
    // A pair listed twice keeps its last rank: HF collects the list into a map the same way.
    merge_slots_[slot] = {key, MergeInfo{int32_t(rank), m.merged}};
  }
}

const Bpe::MergeInfo* Bpe::find_merge(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  const size_t mask = merge_slots_.size() - 1;
  for (size_t slot = slot_of(key);; slot = (slot + 1) & mask) {
    const MergeSlot& s = merge_slots_[slot];
    if (s.key == key) return &s.info;
    if (s.key == kEmptyKey) return nullptr;
  }
}

void Bpe::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.size() == 1) {
    out.push_back(byte_ids_[static_cast<unsigned char>(word[0])]);
    return;
  }
  if (options_.ignore_merges) {
    const auto it = whole_words_.find(std::string(word));
    if (it != whole_words_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() <= options_.max_cached_word;
  if (cacheable && cache_->lookup(word, out)) return;
  const size_t first = out.size();
  merge_word(word, out);
  if (cacheable) cache_->insert(word, std::span<const int32_t>(out).subspan(first));
}

namespace {

struct Symbol {
  int32_t id;
  int32_t prev;  // -1: none
  int32_t next;  // -1: none
  bool removed;
};

struct Candidate {
  int32_t rank;
  int32_t pos;     // index of the pair's left symbol
  int32_t merged;  // expected result; a mismatch marks the entry stale
};

// std heap functions build a max-heap; "later" puts the lowest (rank, pos) on top.
bool later(const Candidate& a, const Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

}  // namespace

void Bpe::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  // Per-thread scratch: cache misses are common on new text, and each one would otherwise
  // allocate two vectors.
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;

  const int32_t n = static_cast<int32_t>(word.size());
  symbols.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    symbols[i] = {byte_ids_[static_cast<unsigned char>(word[i])], i - 1, i + 1 < n ? i + 1 : -1,
                  false};
  }
  heap.clear();
  for (int32_t i = 0; i + 1 < n; ++i) {
    if (const MergeInfo* m = find_merge(symbols[i].id, symbols[i + 1].id)) {
      heap.push_back({m->rank, i, m->merged});
    }
  }
  std::make_heap(heap.begin(), heap.end(), later);

  const auto push = [&](int32_t pos, int32_t left, int32_t right) {
    if (const MergeInfo* m = find_merge(left, right)) {
      heap.push_back({m->rank, pos, m->merged});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();

    Symbol& current = symbols[top.pos];
    if (current.removed || current.next < 0) continue;
    const int32_t right_pos = current.next;
    Symbol& right = symbols[right_pos];
    // HF checks only that the pair now at `pos` still merges into the same token.
    const MergeInfo* m = find_merge(current.id, right.id);
    if (m == nullptr || m->merged != top.merged) continue;

    current.id = top.merged;
    current.next = right.next;
    right.removed = true;
    if (current.next >= 0) symbols[current.next].prev = top.pos;

    if (current.prev >= 0) push(current.prev, symbols[current.prev].id, current.id);
    if (current.next >= 0) push(top.pos, current.id, symbols[current.next].id);
  }

  // Symbol 0 is never the right half of a merge, so the list always starts there.
  for (int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);

  // Do not keep megabytes of scratch alive per thread after one huge word.
  if (symbols.capacity() > (1u << 16)) {
    symbols = {};
    heap = {};
  }
}

}  // namespace tessera

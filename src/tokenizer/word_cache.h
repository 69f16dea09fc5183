// word -> ids memo for BPE. Natural text repeats a small set of words, so most words skip the
// merge loop; this is what keeps encode linear-time in practice (HF keeps a similar cache).
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/string_hash.h"

namespace tessera {

class WordCache {
 public:
  // At most `capacity` words are kept; when full the cache is cleared and refills with the
  // current text's words (cheap, and adapts to a new language or domain).
  explicit WordCache(size_t capacity) : capacity_(capacity) {}

  // Appends the cached ids of `word` to `out`; false if absent. Thread-safe.
  bool lookup(std::string_view word, std::vector<int32_t>& out) const;

  // Thread-safe.
  void insert(std::string_view word, std::span<const int32_t> ids);

 private:
  size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map_;
};

}  // namespace tessera

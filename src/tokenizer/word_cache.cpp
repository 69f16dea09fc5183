#include "tokenizer/word_cache.h"

namespace tessera {

bool WordCache::lookup(std::string_view word, std::vector<int32_t>& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = map_.find(word);
  if (it == map_.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::insert(std::string_view word, std::span<const int32_t> ids) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (map_.size() >= capacity_) map_.clear();
  map_.try_emplace(std::string(word), ids.begin(), ids.end());
}

}  // namespace tessera

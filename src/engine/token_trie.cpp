#include "engine/token_trie.h"

#include "util/error.h"

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <string_view>
#include <utility>

namespace tessera {

TokenTrie::TokenTrie(const Tokenizer& tokenizer, int64_t vocab_limit)
    : vocab_limit_(std::min<int64_t>(vocab_limit, tokenizer.vocab_size())) {
  std::vector<std::pair<std::string_view, int32_t>> tokens;
  for (int32_t id = 0; id < vocab_limit_; ++id) {
    if (!tokenizer.is_known(id) || tokenizer.is_special(id)) continue;
    std::string_view bytes = tokenizer.token_bytes(id);
    if (!bytes.empty()) tokens.emplace_back(bytes, id);
  }
  std::sort(tokens.begin(), tokens.end());  // equal byte strings end up adjacent, ids ascending

  nodes_.push_back(Node{});
  std::vector<uint32_t> path = {0};  // path[d]: the node at depth d on the current branch
  std::string_view previous;
  for (const auto& [bytes, id] : tokens) {
    TS_CHECK(bytes.size() < std::numeric_limits<uint16_t>::max(), "token {} is too long", id);
    size_t common = 0;
    while (common < previous.size() && common < bytes.size() && previous[common] == bytes[common]) ++common;
    // Close the branches that do not continue into this token.
    while (path.size() > common + 1) {
      nodes_[path.back()].subtree_end = static_cast<uint32_t>(nodes_.size());
      path.pop_back();
    }
    for (size_t d = common; d < bytes.size(); ++d) {
      Node n;
      n.byte = static_cast<uint8_t>(bytes[d]);
      n.depth = static_cast<uint16_t>(d + 1);
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back(n);
    }
    Node& end = nodes_[path.back()];
    if (end.token_count == 0) end.first_token = static_cast<uint32_t>(token_ids_.size());
    ++end.token_count;
    token_ids_.push_back(id);
    max_depth_ = std::max(max_depth_, static_cast<int>(bytes.size()));
    previous = bytes;
  }
  for (uint32_t n : path) nodes_[n].subtree_end = static_cast<uint32_t>(nodes_.size());
}

std::shared_ptr<const TokenTrie> shared_token_trie(const Tokenizer& tokenizer, int64_t vocab_limit) {
  static std::mutex mutex;
  static std::map<std::pair<const Tokenizer*, int64_t>, std::shared_ptr<const TokenTrie>> tries;
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<const TokenTrie>& trie = tries[{&tokenizer, vocab_limit}];
  if (!trie) trie = std::make_shared<const TokenTrie>(tokenizer, vocab_limit);
  return trie;
}

}  // namespace tessera

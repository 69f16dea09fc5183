// The vocabulary as a byte trie, for computing a grammar's token mask: walking it with a matcher
// state matches each shared prefix once, and a prefix the grammar rejects skips its whole subtree.
//
// Holds every token that can appear as generated text: known ids below `vocab_limit`, not
// special, with non-empty bytes. Non-special added tokens (Qwen's <tool_call>, <think>) are in it
// with their content as bytes, so a grammar literal "<tool_call>" can be produced by that one
// token or spelled out by BPE pieces. Special tokens (<|im_end|>, EOS) are not: a constraint
// allows them only as end of sequence.
//
// Nodes are stored in depth-first preorder; node 0 is the root (no byte). Skipping a subtree is
// jumping to its `subtree_end`.
#pragma once

#include "tokenizer/tokenizer.h"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace tessera {

class TokenTrie {
 public:
  struct Node {
    uint8_t byte = 0;
    uint16_t depth = 0;          // bytes from the root
    uint32_t subtree_end = 0;    // first node after this one's subtree
    uint32_t first_token = 0;    // into token_ids(): the ids whose bytes end here
    uint32_t token_count = 0;
  };

  TokenTrie(const Tokenizer& tokenizer, int64_t vocab_limit);

  const std::vector<Node>& nodes() const { return nodes_; }
  std::span<const int32_t> tokens_at(const Node& node) const {
    return {token_ids_.data() + node.first_token, node.token_count};
  }
  int max_depth() const { return max_depth_; }
  int64_t vocab_limit() const { return vocab_limit_; }
  size_t token_count() const { return token_ids_.size(); }

 private:
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  int max_depth_ = 0;
  int64_t vocab_limit_ = 0;
};

// One trie per (tokenizer, limit), built on first use (about a tenth of a second for 151k
// tokens) and shared by every request afterwards. Thread-safe.
std::shared_ptr<const TokenTrie> shared_token_trie(const Tokenizer& tokenizer, int64_t vocab_limit);

}  // namespace tessera

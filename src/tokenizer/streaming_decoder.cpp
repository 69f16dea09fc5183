#include "tokenizer/streaming_decoder.h"

#include "util/utf8.h"

namespace tessera {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

std::string StreamingDecoder::push(int32_t id) {
  const std::string_view bytes = tokenizer_->token_bytes(id);  // validates the id
  if (skip_special_ && tokenizer_->is_special(id)) return {};
  pending_.append(bytes);
  const size_t hold = utf8::truncated_tail_length(pending_);
  std::string text;
  utf8::append_lossy(std::string_view(pending_).substr(0, pending_.size() - hold), text);
  pending_.erase(0, pending_.size() - hold);
  return text;
}

std::string StreamingDecoder::finish() {
  std::string text;
  utf8::append_lossy(pending_, text);
  pending_.clear();
  return text;
}

}  // namespace tessera

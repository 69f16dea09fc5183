// One choice of a chat completion, assembled from pump()'s deltas (generation.h): reasoning is
// already split off there; when the request has tools (and tool_choice is not "none") the
// content then goes through the tool-call parser of the template's format. Streaming and
// non-streaming responses both go through this class, so they report the same calls.
#pragma once

#include "chat/tool_call_parser.h"
#include "engine/sequence_channel.h"
#include "server/generation.h"
#include "server/tool_schema.h"

#include <optional>
#include <string>
#include <vector>

namespace tessera::server {

class ChatChoiceBuilder {
 public:
  // `format`: the chat template's tool-call format (ignored when `tools` is not active).
  ChatChoiceBuilder(const ToolParams& tools, ToolCallFormat format);

  struct Delta {
    std::string reasoning;
    std::string content;
    std::vector<ToolCallDelta> tool_calls;
    bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
  };
  // Feeds one of pump()'s deltas (its logprobs are the caller's); returns what can be released.
  Delta push(const TextDelta& delta);
  // End of output (after pump() returned): releases what the parser held back.
  Delta finish();

  // The whole choice so far.
  const std::string& content() const { return content_; }
  const std::string& reasoning() const { return reasoning_; }
  const std::vector<ToolCall>& tool_calls() const { return tool_calls_; }
  // "tool_calls" when the model ended its turn (EOS or stop) after calling; else as usual.
  const char* finish_reason(FinishReason reason) const;

 private:
  Delta keep(Delta delta);

  std::optional<ToolCallStreamParser> parser_;
  bool parallel_ = true;
  std::string content_;
  std::string reasoning_;
  std::vector<ToolCall> tool_calls_;
};

}  // namespace tessera::server

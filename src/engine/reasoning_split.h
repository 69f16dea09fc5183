// Splits streamed output into reasoning and answer for models that think in <think>...</think>.
//
// Qwen3.5's chat template ends the prompt with "<think>\n", so the model's first words are
// already reasoning and the split point is the first "</think>" it writes. Qwen3's template
// leaves the tag to the model, which then opens with "<think>". Hence two starting modes:
//   kInReasoning : the prompt ends inside an open <think> block (see prompt_opens_reasoning);
//   kDetect      : reasoning only if the output itself starts with <think>.
// Whitespace that only separates the parts ("<think>\n", "\n</think>\n\n") is dropped, the way
// vLLM's and llama.cpp's Qwen parsers present it. Tags split across tokens are held back until
// they can be told apart from ordinary text, so streaming and one-shot give the same split.
#pragma once

#include <string>
#include <string_view>

namespace tessera {

// True when the last "<think>" in `prompt` comes after the last "</think>" (or there is none).
bool prompt_opens_reasoning(std::string_view prompt);

class ReasoningSplitter {
 public:
  enum class Start { kInReasoning, kDetect };
  explicit ReasoningSplitter(Start start);

  struct Delta {
    std::string reasoning;
    std::string content;
  };
  Delta push(std::string_view text);
  // End of output: releases anything held back (an unterminated reasoning block stays reasoning).
  Delta flush();

 private:
  enum class State { kDetect, kReasoningStart, kReasoning, kContentStart, kContent };
  void run(Delta& out, bool at_end);

  State state_;
  std::string buf_;  // text not yet assigned to either part
};

}  // namespace tessera

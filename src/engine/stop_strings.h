// Stop strings over streamed text. A stop string may be split across tokens ("<|us" + "er|>"),
// so text that could still be the start of one is held back until the next piece rules it in
// or out. Text before a match is released; the match and everything after it never are
// (OpenAI semantics: the stop sequence is not part of the output).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops = {});

  struct Result {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop string ended the text; nothing more will be released
  };
  Result push(std::string_view text);
  // End of generation without a match: releases the held-back tail.
  std::string flush();

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace tessera

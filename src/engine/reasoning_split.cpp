#include "engine/reasoning_split.h"

#include "util/text_scan.h"

#include <algorithm>

namespace tessera {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

size_t leading_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_tag_space(s[i])) ++i;
  return i;
}

}  // namespace

bool prompt_opens_reasoning(std::string_view prompt) {
  const size_t open = prompt.rfind(kOpen);
  if (open == std::string_view::npos) return false;
  const size_t close = prompt.rfind(kClose);
  return close == std::string_view::npos || close < open;
}

ReasoningSplitter::ReasoningSplitter(Start start)
    : state_(start == Start::kInReasoning ? State::kReasoningStart : State::kDetect) {}

ReasoningSplitter::Delta ReasoningSplitter::push(std::string_view text) {
  Delta out;
  buf_.append(text);
  run(out, false);
  return out;
}

ReasoningSplitter::Delta ReasoningSplitter::flush() {
  Delta out;
  run(out, true);
  buf_.clear();
  return out;
}

// A small state machine over buf_; each state consumes what it can decide and returns when it
// needs more text. `at_end` turns every "wait and see" into a decision.
void ReasoningSplitter::run(Delta& out, bool at_end) {
  for (;;) {
    switch (state_) {
      case State::kDetect: {
        const size_t ws = leading_space(buf_);
        std::string_view rest = std::string_view(buf_).substr(ws);
        if (rest.substr(0, kOpen.size()) == kOpen) {
          buf_.erase(0, ws + kOpen.size());
          state_ = State::kReasoningStart;
          continue;
        }
        // Still possibly "<think>" (or only whitespace so far): wait for more.
        if (!at_end && kOpen.substr(0, rest.size()) == rest) return;
        state_ = State::kContent;
        continue;
      }
      case State::kReasoningStart: {
        const size_t ws = leading_space(buf_);
        buf_.erase(0, ws);
        if (buf_.empty()) return;
        state_ = State::kReasoning;
        continue;
      }
      case State::kReasoning: {
        const size_t close = buf_.find(kClose);
        if (close != std::string::npos) {
          std::string_view before = std::string_view(buf_).substr(0, close);
          while (!before.empty() && is_tag_space(before.back())) before.remove_suffix(1);
          out.reasoning.append(before);
          buf_.erase(0, close + kClose.size());
          state_ = State::kContentStart;
          continue;
        }
        if (at_end) {
          std::string_view all = buf_;
          while (!all.empty() && is_tag_space(all.back())) all.remove_suffix(1);
          out.reasoning.append(all);
          buf_.clear();
          return;
        }
        // Hold a possible partial "</think>" and trailing whitespace (dropped if the tag follows).
        size_t keep = partial_tag_tail(buf_, kClose);
        size_t end = buf_.size() - keep;
        while (end > 0 && is_tag_space(buf_[end - 1])) --end;
        out.reasoning.append(buf_, 0, end);
        buf_.erase(0, end);
        return;
      }
      case State::kContentStart: {
        buf_.erase(0, leading_space(buf_));
        if (buf_.empty()) return;
        state_ = State::kContent;
        continue;
      }
      case State::kContent:
        out.content.append(buf_);
        buf_.clear();
        return;
    }
  }
}

}  // namespace tessera

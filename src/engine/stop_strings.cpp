#include "engine/stop_strings.h"

#include <algorithm>

namespace tessera {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

StopStringMatcher::Result StopStringMatcher::push(std::string_view text) {
  Result result;
  if (stopped_) {
    result.stopped = true;
    return result;
  }
  if (stops_.empty()) {
    result.text.assign(text);
    return result;
  }
  held_.append(text);
  // The first stop string to complete wins (checked after every token, as vLLM does); among
  // several completed by the same piece, the one that starts earliest.
  size_t first = std::string::npos;
  for (const std::string& stop : stops_) first = std::min(first, held_.find(stop));
  if (first != std::string::npos) {
    result.text = held_.substr(0, first);
    result.stopped = stopped_ = true;
    held_.clear();
    return result;
  }
  // Hold the longest tail that is a proper prefix of some stop string. Stop strings start on a
  // UTF-8 lead byte, so the released part always ends on a character boundary.
  size_t keep = 0;
  for (const std::string& stop : stops_) {
    const size_t longest = std::min(stop.size() - 1, held_.size());
    for (size_t k = longest; k > keep; --k) {
      if (std::string_view(held_).substr(held_.size() - k) == std::string_view(stop).substr(0, k)) {
        keep = k;
        break;
      }
    }
  }
  result.text = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return result;
}

std::string StopStringMatcher::flush() {
  std::string out;
  out.swap(held_);
  return stopped_ ? std::string() : out;
}

}  // namespace tessera

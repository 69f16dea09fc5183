#include "tokenizer/pretokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdint>

#include "util/error.h"

namespace tessera {
namespace {

// HF pre_tokenizers/byte_level.rs: the GPT-2 pattern ByteLevel uses when use_regex is true.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

bool read_bool(const nlohmann::json& spec, const char* key, bool fallback, const std::string& where) {
  if (!spec.contains(key) || spec[key].is_null()) return fallback;
  if (!spec[key].is_boolean()) fail("{}: \"{}\" must be a boolean", where, key);
  return spec[key].get<bool>();
}

SplitBehavior parse_behavior(const nlohmann::json& value, const std::string& where) {
  const std::string name = value.is_string() ? value.get<std::string>() : value.dump();
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  fail("{}.behavior: unknown split behavior {}", where, name);
}

struct Segment {
  size_t begin, end;
  bool is_match;
};

}  // namespace

void PreTokenizer::read_spec(const nlohmann::json& spec, const std::string& where,
                             std::vector<Step>& steps) {
  if (spec.is_null()) return;
  if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string()) {
    fail("{}: expected an object with a string \"type\"", where);
  }
  const std::string type = spec["type"];
  if (type == "Sequence") {
    if (!spec.contains("pretokenizers") || !spec["pretokenizers"].is_array()) {
      fail("{}: Sequence needs a \"pretokenizers\" array", where);
    }
    const auto& list = spec["pretokenizers"];
    for (size_t i = 0; i < list.size(); ++i) {
      read_spec(list[i], where + ".pretokenizers[" + std::to_string(i) + "]", steps);
    }
  } else if (type == "Split") {
    Step step;
    const std::string pattern_where = where + ".pattern";
    const auto* pattern = spec.contains("pattern") ? &spec["pattern"] : nullptr;
    if (pattern != nullptr && pattern->is_object() && pattern->contains("Regex") &&
        (*pattern)["Regex"].is_string()) {
      step.regex.emplace((*pattern)["Regex"].get<std::string>(), pattern_where + ".Regex");
    } else if (pattern != nullptr && pattern->is_object() && pattern->contains("String") &&
               (*pattern)["String"].is_string()) {
      step.regex.emplace((*pattern)["String"].get<std::string>(), pattern_where + ".String",
                         /*literal=*/true);
    } else {
      fail("{}: expected {{\"Regex\": string}} or {{\"String\": string}}", pattern_where);
    }
    if (!spec.contains("behavior")) fail("{}: Split needs a \"behavior\"", where);
    step.behavior = parse_behavior(spec["behavior"], where);
    step.invert = read_bool(spec, "invert", false, where);
    steps.push_back(std::move(step));
  } else if (type == "ByteLevel") {
    // HF defaults: add_prefix_space = true, use_regex = true.
    Step step;
    step.byte_level = true;
    step.add_prefix_space = read_bool(spec, "add_prefix_space", true, where);
    if (read_bool(spec, "use_regex", true, where)) {
      step.regex.emplace(kGpt2Pattern, where + " (GPT-2 pattern)");
    }
    steps.push_back(std::move(step));
  } else {
    fail("{}: pre_tokenizer type \"{}\" is not supported (supported: Sequence, Split, ByteLevel)",
         where, type);
  }
}

PreTokenizer PreTokenizer::from_json(const nlohmann::json& spec, const std::string& where,
                                     const std::optional<std::string>& split_regex_override,
                                     const std::string& override_where) {
  PreTokenizer p;
  read_spec(spec, where, p.steps_);
  if (split_regex_override) {
    // Only a Split step whose pattern came from "Regex" may be replaced: a literal String split
    // or the fixed GPT-2 pattern of ByteLevel is not what pretokenize_regex describes.
    Step* target = nullptr;
    int count = 0;
    for (Step& s : p.steps_) {
      if (!s.byte_level) {
        target = &s;
        ++count;
      }
    }
    if (count != 1) {
      fail("{}: given, but {} has {} Split steps (need exactly one to replace)", override_where,
           where, count);
    }
    target->regex.emplace(*split_regex_override, override_where);
    target->invert = false;
  }
  return p;
}

bool PreTokenizer::has_byte_level() const {
  for (const Step& s : steps_) {
    if (s.byte_level) return true;
  }
  return false;
}

void PreTokenizer::split(std::string_view text, const Emit& emit) const { run(0, text, emit); }

void PreTokenizer::run(size_t step, std::string_view text, const Emit& emit) const {
  if (text.empty()) return;
  if (step == steps_.size()) {
    emit(text);
    return;
  }
  const Step& s = steps_[step];
  if (!s.byte_level) {
    split_with(s, step + 1, text, emit);
    return;
  }
  std::string prefixed;
  if (s.add_prefix_space && text.front() != ' ') {
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(text);
    text = prefixed;
  }
  if (s.regex) {
    split_with(s, step + 1, text, emit);
  } else {
    run(step + 1, text, emit);
  }
}

// HF normalizer.rs NormalizedString::split: the matches and the gaps between them cover the
// text; the behavior decides which become words and what is glued to what.
void PreTokenizer::split_with(const Step& s, size_t next_step, std::string_view text,
                              const Emit& emit) const {
  std::vector<MatchSpan> matches;
  s.regex->find_all(text, matches);

  std::vector<Segment> segments;
  segments.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const MatchSpan& m : matches) {
    if (m.begin != prev) segments.push_back({prev, m.begin, s.invert});
    segments.push_back({m.begin, m.end, !s.invert});
    prev = m.end;
  }
  if (prev != text.size()) segments.push_back({prev, text.size(), s.invert});

  std::vector<Segment> words;  // is_match here means "drop it" (Removed)
  words.reserve(segments.size());
  switch (s.behavior) {
    case SplitBehavior::kIsolated:
      for (const Segment& g : segments) words.push_back({g.begin, g.end, false});
      break;
    case SplitBehavior::kRemoved:
      words = segments;
      break;
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const Segment& g : segments) {
        if (g.is_match == previous_match && !words.empty()) {
          words.back().end = g.end;
        } else {
          words.push_back({g.begin, g.end, false});
        }
        previous_match = g.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Segment& g : segments) {
        if (g.is_match && !previous_match && !words.empty()) {
          words.back().end = g.end;
        } else {
          words.push_back({g.begin, g.end, false});
        }
        previous_match = g.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      // HF folds right to left; equivalently, a match directly followed by a non-match
      // becomes the start of that next word.
      size_t carry_begin = SIZE_MAX;
      for (size_t i = 0; i < segments.size(); ++i) {
        const Segment& g = segments[i];
        if (g.is_match && i + 1 < segments.size() && !segments[i + 1].is_match) {
          carry_begin = g.begin;
          continue;
        }
        words.push_back({carry_begin != SIZE_MAX ? carry_begin : g.begin, g.end, false});
        carry_begin = SIZE_MAX;
      }
      break;
    }
  }
  for (const Segment& w : words) {
    if (!w.is_match) run(next_step, text.substr(w.begin, w.end - w.begin), emit);
  }
}

}  // namespace tessera

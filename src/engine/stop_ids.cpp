#include "engine/stop_ids.h"

#include "io/family_spec.h"

#include <string_view>

namespace tessera {
namespace {

constexpr std::string_view kTerminators[] = {"<|im_end|>", "<|endoftext|>"};

bool names_terminator(const Tokenizer& tokenizer, int32_t id) {
  const auto text = tokenizer.id_to_token(id);
  if (!text) return false;
  for (std::string_view name : kTerminators)
    if (*text == name) return true;
  return false;
}

}  // namespace

std::set<int32_t> serving_stop_ids(const ModelConfig& config, const Tokenizer& tokenizer) {
  std::set<int32_t> ids;
  for (int64_t id : config.eos_token_ids) ids.insert(static_cast<int32_t>(id));
  if (auto eos = tokenizer.eos_token_id()) ids.insert(*eos);
  for (int32_t id : family_spec(config.family).chat_terminator_ids)
    if (names_terminator(tokenizer, id)) ids.insert(id);
  for (std::string_view name : kTerminators)
    if (auto id = tokenizer.token_to_id(name)) ids.insert(*id);
  return ids;
}

}  // namespace tessera

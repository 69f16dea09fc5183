// The token ids that end a served generation. Checkpoints disagree on where they list them:
// config.json's eos_token_id, generation_config.json's list, tokenizer_config.json's
// eos_token, and for Qwen chat models the turn terminator <|im_end|> and <|endoftext|>, which a
// base model's config may omit although chat output must stop there.
#pragma once

#include "io/model_config.h"
#include "tokenizer/tokenizer.h"

#include <cstdint>
#include <set>

namespace tessera {

// config.eos_token_ids ∪ tokenizer.eos_token_id() ∪ the family's terminators. A family id is
// taken only if the tokenizer really names it <|im_end|> or <|endoftext|> (a truncated test
// vocabulary renumbers them), and the tokenizer's own ids for those names are added as well.
std::set<int32_t> serving_stop_ids(const ModelConfig& config, const Tokenizer& tokenizer);

}  // namespace tessera

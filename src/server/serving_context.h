// What the HTTP handlers need once the model is loaded. Owned by `tessera serve` on rank 0;
// every reference outlives the HTTP server (the server is stopped before they are destroyed).
#pragma once

#include "chat/chat_template.h"
#include "engine/scheduler.h"
#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace tessera::server {

struct ServingContext {
  Scheduler& scheduler;
  const Tokenizer& tokenizer;
  const ChatTemplate& chat_template;
  nlohmann::ordered_json template_defaults;  // bos/eos/... special-token variables (HF adds them)
  int64_t context_size = 0;                  // prompt + completion tokens per sequence
  // Parameters a request leaves out (request_defaults.h): {"temperature": 0.6, ...}.
  nlohmann::ordered_json request_defaults = nlohmann::ordered_json::object();
  int64_t default_max_tokens = 0;            // cap for a request without max_tokens; 0: the context
};

}  // namespace tessera::server

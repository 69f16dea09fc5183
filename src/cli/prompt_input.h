// Turning what a user gives on the command line into a prompt: a --messages file (a JSON array of
// messages, or an object with `messages` and other template variables, as HF apply_chat_template
// takes them) rendered with the model's chat template, or raw --prompt text.
#pragma once

#include "chat/chat_template.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace tessera::cli {

// Template variables for `model_dir`: the tokenizer's special tokens, add_generation_prompt
// true, then everything the file gives. Throws tessera::Error on an unreadable or bad file.
nlohmann::ordered_json read_template_context(const std::string& model_dir, const std::string& messages_file);

// Applies --no-generation-prompt / --enable-thinking true|false on top of the file's variables.
void apply_template_overrides(nlohmann::ordered_json& context, bool no_generation_prompt,
                              const std::string& enable_thinking);

// The model's chat template, or the one in `override_file` when given (--chat-template FILE:
// for checkpoints that ship none, or to try another).
ChatTemplate load_chat_template(const std::string& model_dir, const std::string& override_file);

}  // namespace tessera::cli

// Chat templates: turns a list of chat messages into the prompt text a model expects, by
// running the model's Jinja2 chat template the way HF transformers' apply_chat_template does
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, tojson =
// json.dumps(ensure_ascii=False), raise_exception and strftime_now globals).
//
// The output matches Python Jinja2 3.1 byte for byte for the subset the engine supports
// (src/chat/jinja_*.h). Constructs outside the subset raise tessera::Error naming the construct
// and the template line; they never render different text.
//
// Contexts are nlohmann::ordered_json because key order is visible in the output: `tojson` of a
// tool schema and `|items` over tool-call arguments keep insertion order, as Python dicts do.
// (A nlohmann::json converts implicitly, but its keys come out sorted.)
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace tessera {

namespace jinja {
struct Program;
}

class ChatTemplate {
 public:
  // Template text from <dir>/chat_template.jinja if present, else tokenizer_config.json's
  // `chat_template` (a string, or a list of {name, template} where "default" is used).
  // Throws tessera::Error naming the directory when neither has a template, or on a syntax
  // error (with the template line).
  static ChatTemplate from_model_dir(const std::filesystem::path& dir);
  static ChatTemplate from_string(std::string source);

  // Renders with `context` as the template variables: messages, tools, add_generation_prompt,
  // enable_thinking, bos_token/eos_token, ... Missing variables are Jinja Undefined (HF itself
  // passes tools=None and documents=None when absent; callers wanting that add them).
  // Throws tessera::Error: for raise_exception(msg) the message contains msg verbatim.
  std::string render(const nlohmann::ordered_json& context) const;

  const std::string& source() const { return source_; }

 private:
  ChatTemplate(std::string source, std::string origin);

  std::string source_;
  std::shared_ptr<const jinja::Program> program_;  // immutable, shared between copies
};

// The special-token variables HF adds to every render ({**tokenizer.special_tokens_map}):
// bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token (when set in
// <model_dir>/tokenizer_config.json, as strings) and additional_special_tokens (list of strings).
// Returns an empty object when the directory has no tokenizer_config.json.
nlohmann::ordered_json default_template_context(const std::filesystem::path& model_dir);

}  // namespace tessera

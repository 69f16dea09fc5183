// `tessera template`: renders a model's chat template for a list of messages and prints the
// prompt exactly (no newline added). Used by tests/chat/jinja_oracle_test.py to compare with
// Python Jinja2.
//
//   tessera template --model DIR --messages FILE.json [--no-generation-prompt]
//                    [--enable-thinking true|false]
//
// FILE holds a JSON array of messages, or an object with `messages` plus any other template
// variables (tools, add_generation_prompt, enable_thinking, ...). The special tokens of
// DIR/tokenizer_config.json are added first, as HF does; the file's variables override them.
// add_generation_prompt defaults to true.
#include "chat/chat_template.h"
#include "cli/command.h"
#include "cli/prompt_input.h"
#include "util/error.h"

#include <memory>

namespace tessera::cli {

namespace {

struct TemplateOptions {
  std::string model;
  std::string messages;
  bool no_generation_prompt = false;
  std::string enable_thinking;
  std::string chat_template;
};

void run_template(const TemplateOptions& opt) {
  nlohmann::ordered_json context = read_template_context(opt.model, opt.messages);
  apply_template_overrides(context, opt.no_generation_prompt, opt.enable_thinking);
  print_text(load_chat_template(opt.model, opt.chat_template).render(context));
}

void setup_template(CLI::App& sub) {
  auto opt = std::make_shared<TemplateOptions>();
  sub.add_option("--model", opt->model, "model directory (chat_template.jinja or tokenizer_config.json)")
      ->required();
  sub.add_option("--messages", opt->messages,
                 "JSON file: an array of messages, or an object with messages and other template variables")
      ->required();
  sub.add_flag("--no-generation-prompt", opt->no_generation_prompt, "render without the assistant prompt");
  sub.add_option("--enable-thinking", opt->enable_thinking, "set the enable_thinking variable")
      ->check(CLI::IsMember({"true", "false"}));
  sub.add_option("--chat-template", opt->chat_template, "use this template file instead of the model's");
  sub.callback([opt] { run_template(*opt); });
}

const bool registered = register_command(
    {"template", "render a model's chat template for a list of messages", setup_template});

}  // namespace

}  // namespace tessera::cli

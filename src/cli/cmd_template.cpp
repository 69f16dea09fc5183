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
#include "util/error.h"

#include <fstream>
#include <memory>
#include <sstream>

namespace tessera::cli {

namespace {

struct TemplateOptions {
  std::string model;
  std::string messages;
  bool no_generation_prompt = false;
  std::string enable_thinking;
};

nlohmann::ordered_json read_context_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open messages file {}", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  try {
    return nlohmann::ordered_json::parse(buf.str());
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", path, e.what());
  }
}

void run_template(const TemplateOptions& opt) {
  ChatTemplate chat_template = ChatTemplate::from_model_dir(opt.model);
  nlohmann::ordered_json context = default_template_context(opt.model);
  context["add_generation_prompt"] = true;
  nlohmann::ordered_json file = read_context_file(opt.messages);
  if (file.is_array()) {
    context["messages"] = file;
  } else if (file.is_object()) {
    for (const auto& [key, value] : file.items()) context[key] = value;
  } else {
    fail("{}: expected a JSON array of messages or an object with \"messages\", found {}", opt.messages,
         file.type_name());
  }
  if (opt.no_generation_prompt) context["add_generation_prompt"] = false;
  if (!opt.enable_thinking.empty()) context["enable_thinking"] = opt.enable_thinking == "true";
  print_text(chat_template.render(context));
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
  sub.callback([opt] { run_template(*opt); });
}

const bool registered = register_command(
    {"template", "render a model's chat template for a list of messages", setup_template});

}  // namespace

}  // namespace tessera::cli

#include "cli/prompt_input.h"

#include "util/error.h"
#include "util/read_file.h"

namespace tessera::cli {

nlohmann::ordered_json read_template_context(const std::string& model_dir, const std::string& path) {
  const nlohmann::ordered_json file = read_ordered_json_file(path);
  nlohmann::ordered_json context = default_template_context(model_dir);
  context["add_generation_prompt"] = true;
  if (file.is_array()) {
    context["messages"] = file;
  } else if (file.is_object()) {
    for (const auto& [key, value] : file.items()) context[key] = value;
  } else {
    fail("{}: expected a JSON array of messages or an object with \"messages\", found {}", path, file.type_name());
  }
  return context;
}

void apply_template_overrides(nlohmann::ordered_json& context, bool no_generation_prompt,
                              const std::string& enable_thinking) {
  if (no_generation_prompt) context["add_generation_prompt"] = false;
  if (!enable_thinking.empty()) {
    if (enable_thinking != "true" && enable_thinking != "false")
      fail("--enable-thinking must be true or false, got '{}'", enable_thinking);
    context["enable_thinking"] = enable_thinking == "true";
  }
}

ChatTemplate load_chat_template(const std::string& model_dir, const std::string& override_file) {
  if (override_file.empty()) return ChatTemplate::from_model_dir(model_dir);
  return ChatTemplate::from_string(read_file(override_file));
}

}  // namespace tessera::cli

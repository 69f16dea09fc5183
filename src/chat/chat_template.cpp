// ChatTemplate facade (see chat_template.h): finds the template text, parses it once, renders.
#include "chat/chat_template.h"

#include "chat/jinja/interpreter.h"
#include "chat/jinja/parser.h"
#include "util/error.h"
#include "util/read_file.h"


namespace tessera {

namespace {


// tokenizer_config.json's chat_template: a string, or [{name, template}, ...] (use "default").
std::string template_from_config(const nlohmann::ordered_json& config, const std::filesystem::path& path) {
  const auto& t = config.at("chat_template");
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {
    std::string names;
    for (const auto& entry : t) {
      if (!entry.is_object() || !entry.contains("name") || !entry.contains("template")) continue;
      if (entry["name"] == "default" && entry["template"].is_string()) return entry["template"].get<std::string>();
      names += (names.empty() ? "" : ", ") + entry["name"].dump();
    }
    fail("{}: chat_template is a list without a template named \"default\" (found: {})", path.string(), names);
  }
  fail("{}: chat_template must be a string or a list of {{name, template}} objects, found {}", path.string(),
       t.type_name());
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source, std::string origin) : source_(std::move(source)) {
  try {
    program_ = jinja::parse_template(source_, jinja::LexerOptions{});
  } catch (const Error& e) {
    if (origin.empty()) throw;
    fail("{}: {}", origin, e.what());
  }
}

ChatTemplate ChatTemplate::from_string(std::string source) { return ChatTemplate(std::move(source), ""); }

ChatTemplate ChatTemplate::from_model_dir(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) fail("model directory {} does not exist", dir.string());
  auto jinja_path = dir / "chat_template.jinja";
  if (std::filesystem::exists(jinja_path)) return ChatTemplate(read_file(jinja_path), jinja_path.string());
  auto config_path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    auto config = read_ordered_json_file(config_path);
    if (config.is_object() && config.contains("chat_template") && !config["chat_template"].is_null())
      return ChatTemplate(template_from_config(config, config_path), config_path.string());
  }
  fail("model directory {} has no chat template: expected chat_template.jinja or a \"chat_template\" "
       "field in tokenizer_config.json",
       dir.string());
}

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object()) fail("chat template context must be a JSON object, got {}", context.type_name());
  jinja::Dict variables;
  try {
    for (const auto& [key, value] : context.items())
      variables.set(jinja::Value::string(key), jinja::Value::from_json(value));
  } catch (const jinja::PyError& e) {
    fail("chat template context: {}", e.what());
  }
  return jinja::render_program(*program_, variables);
}

nlohmann::ordered_json default_template_context(const std::filesystem::path& model_dir) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  auto path = model_dir / "tokenizer_config.json";
  if (!std::filesystem::exists(path)) return out;
  auto config = read_ordered_json_file(path);
  if (!config.is_object()) return out;
  // Tokens are strings, or AddedToken dicts {"content": ..., ...} in older configs.
  auto token_text = [](const nlohmann::ordered_json& t) -> std::optional<std::string> {
    if (t.is_string()) return t.get<std::string>();
    if (t.is_object() && t.contains("content") && t["content"].is_string()) return t["content"].get<std::string>();
    return std::nullopt;
  };
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    if (!config.contains(key)) continue;
    if (auto text = token_text(config[key])) out[key] = *text;
  }
  if (config.contains("additional_special_tokens") && config["additional_special_tokens"].is_array()) {
    auto list = nlohmann::ordered_json::array();
    for (const auto& t : config["additional_special_tokens"])
      if (auto text = token_text(t)) list.push_back(*text);
    out["additional_special_tokens"] = list;
  }
  return out;
}

}  // namespace tessera

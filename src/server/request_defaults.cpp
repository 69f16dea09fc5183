#include "server/request_defaults.h"

#include "util/error.h"

#include <fstream>

namespace tessera::server {

nlohmann::ordered_json generation_config_defaults(const std::filesystem::path& model_dir) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  const std::filesystem::path path = model_dir / "generation_config.json";
  std::ifstream in(path);
  if (!in) return out;
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path.string(), e.what());
  }
  if (!config.is_object()) fail("{}: expected a JSON object", path.string());
  if (!config.value("do_sample", false)) {
    out["temperature"] = 0;
    return out;
  }
  for (const char* key : {"temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty",
                          "frequency_penalty"})
    if (config.contains(key) && config[key].is_number()) out[key] = config[key];
  return out;
}

void apply_request_defaults(nlohmann::ordered_json& body, const nlohmann::ordered_json& defaults) {
  for (const auto& [key, value] : defaults.items())
    if (!body.contains(key) || body[key].is_null()) body[key] = value;
}

}  // namespace tessera::server

// Server-side defaults for the generation parameters a request leaves out. Three layers, the
// later winning: the checkpoint's generation_config.json (what its authors recommend), the
// `tessera serve` flags, and the request itself.
//
// Defaults are kept as request JSON ({"temperature": 0.6, "top_k": 20, ...}) and merged into
// each body before it is validated, so they go through the same schema code as a client's
// values and a default can never take a path a request could not.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>

namespace tessera::server {

// Sampling defaults from <model_dir>/generation_config.json, as request parameters: temperature,
// top_p, top_k, min_p, repetition_penalty, presence_penalty, frequency_penalty. As in HF
// transformers, they apply only with "do_sample": true; without it the model's default is
// greedy decoding ({"temperature": 0}). An empty object when the file is absent.
// Throws tessera::Error when the file is not valid JSON.
nlohmann::ordered_json generation_config_defaults(const std::filesystem::path& model_dir);

// Sets each key of `defaults` that `body` leaves out (absent or null).
void apply_request_defaults(nlohmann::ordered_json& body, const nlohmann::ordered_json& defaults);

}  // namespace tessera::server

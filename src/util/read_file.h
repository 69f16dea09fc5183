// Reading a whole file, with errors that name it. Every place that loads a user's file (configs,
// tokenizer.json, chat templates, message files, index files) goes through here, so the message
// for a missing or unreadable file is the same everywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace tessera {

// The file's bytes. Throws tessera::Error "PATH: cannot open file" / "PATH: read error".
std::string read_file(const std::filesystem::path& path);

// The file parsed as JSON. Throws tessera::Error "PATH: invalid JSON: ..." as well.
nlohmann::json read_json_file(const std::filesystem::path& path);
nlohmann::ordered_json read_ordered_json_file(const std::filesystem::path& path);

}  // namespace tessera

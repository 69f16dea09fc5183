// Subcommand registry: each cmd_<name>.cpp registers itself at static-initialisation time, so
// adding a subcommand touches no shared file. main() builds the CLI11 app from the registry.
#pragma once

#include "util/error.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace tessera::cli {

struct Command {
  std::string name;
  std::string help;
  // Adds options to `sub` and sets its callback. The callback throws tessera::Error on bad
  // input; main() prints the message and exits 1.
  std::function<void(CLI::App& sub)> setup;
};

bool register_command(Command command);
const std::vector<Command>& registered_commands();

// Prints JSON data to stdout (one line) on rank 0 only; other ranks stay quiet.
void print_json(const nlohmann::json& value);
// Prints raw text to stdout on rank 0 only, without adding a newline.
void print_text(const std::string& text);

// True on the process that owns stdout/HTTP (rank 0, or the only process).
bool is_output_rank();
void set_output_rank(int rank);

}  // namespace tessera::cli

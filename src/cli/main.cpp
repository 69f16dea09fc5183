// tessera: entry point. Builds the CLI from the subcommand registry (command.h) and turns
// errors into a message on stderr and exit status 1.
#include "cli/command.h"
#include "cli/runtime.h"
#include "util/error.h"

#include <cstdio>
#include <iostream>

namespace tessera::cli {

namespace {
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}
int g_output_rank = 0;  // set by parallel init once it exists; 0 means "this process prints"
}  // namespace

bool register_command(Command command) {
  registry().push_back(std::move(command));
  return true;
}
const std::vector<Command>& registered_commands() { return registry(); }

bool is_output_rank() { return g_output_rank == 0; }
void set_output_rank(int rank) { g_output_rank = rank; }

void print_json(const nlohmann::json& value) {
  if (!is_output_rank()) return;
  std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

void print_text(const std::string& text) {
  if (!is_output_rank()) return;
  std::cout << text << std::flush;
}

}  // namespace tessera::cli

namespace {

int run(int argc, char** argv) {
  using namespace tessera;
  // Under mpirun only rank 0 prints, also for subcommands that never start MPI (tokenize, info, ...).
  cli::set_output_rank(launcher_rank());
  CLI::App app{"tessera: tensor-parallel inference for Qwen3.5 / Qwen3-Next / Qwen3-MoE"};
  app.require_subcommand(1);
  for (const auto& command : cli::registered_commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    command.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const tessera::Error& e) {
    std::fprintf(stderr, "tessera: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera: internal error: %s\n", e.what());
    return 2;
  } catch (...) {
    std::fprintf(stderr, "tessera: internal error: unknown exception\n");
    return 2;
  }
}

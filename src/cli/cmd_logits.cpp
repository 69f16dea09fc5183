// tessera logits --model DIR --tokens 1,2,3 [--all-positions]
//   → {"tokens":[...],"logits":[[...], ...]} (one row per position; the last only by default)
#include "cli/command.h"
#include "cli/runtime.h"

namespace tessera::cli {
namespace {

struct LogitsOptions {
  std::string model;
  std::string tokens;
  bool all_positions = false;
  int threads = 0;
};

void run(const LogitsOptions& o) {
  const std::vector<int32_t> ids = parse_id_list(o.tokens, "--tokens");
  if (ids.empty()) fail("--tokens: give at least one token id");
  run_model_command(o.threads, o.model, [&](LockstepEngine& engine, Runtime&) {
    std::vector<float> logits;
    engine.forward(0, ids, o.all_positions, &logits);
    const int64_t V = engine.model().config().vocab_size;
    nlohmann::json rows = nlohmann::json::array();
    for (size_t r = 0; r * V < logits.size(); ++r)
      rows.push_back(std::vector<float>(logits.begin() + r * V, logits.begin() + (r + 1) * V));
    print_json({{"tokens", ids}, {"logits", rows}});
  });
}

const bool registered = register_command({"logits", "Print the logits of a token sequence as JSON", [](CLI::App& sub) {
  auto o = std::make_shared<LogitsOptions>();
  sub.add_option("--model", o->model, "checkpoint directory")->required();
  sub.add_option("--tokens", o->tokens, "comma-separated token ids")->required();
  sub.add_flag("--all-positions", o->all_positions, "one row per position instead of the last only");
  sub.add_option("--threads", o->threads, "worker threads (default: all cores)");
  sub.callback([o] { run(*o); });
}});

}  // namespace
}  // namespace tessera::cli

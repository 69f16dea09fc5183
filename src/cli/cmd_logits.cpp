// tessera logits --model DIR --tokens 1,2,3 [--all-positions] [--prefill N]
//   → {"tokens":[...],"logits":[[...], ...]} (one row per position; the last only by default)
// --prefill N runs the first N tokens as one prefill and the rest one decode step at a time, so
// tests can check that incremental decode equals a full recompute.
#include "cli/command.h"
#include "cli/runtime.h"

namespace tessera::cli {
namespace {

struct LogitsOptions {
  std::string model;
  std::string tokens;
  bool all_positions = false;
  int64_t prefill = 0;  // 0: everything in one forward pass
  ModelOptions model_options;
};

void run(const LogitsOptions& o) {
  const std::vector<int32_t> ids = parse_id_list(o.tokens, "--tokens");
  if (ids.empty()) fail("--tokens: give at least one token id");
  run_model_command(o.model_options, o.model, [&](LockstepEngine& engine, Runtime&) {
    std::vector<float> logits, piece;
    const size_t first = o.prefill > 0 ? std::min<size_t>(static_cast<size_t>(o.prefill), ids.size()) : ids.size();
    engine.forward(0, std::span<const int32_t>(ids.data(), first), o.all_positions, &logits);
    for (size_t i = first; i < ids.size(); ++i) {
      engine.forward(0, std::span<const int32_t>(&ids[i], 1), false, &piece);
      if (o.all_positions) logits.insert(logits.end(), piece.begin(), piece.end());
      else logits = piece;
    }
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
  sub.add_option("--prefill", o->prefill, "prefill this many tokens, then decode the rest one at a time");
  add_model_options(sub, o->model_options);
  sub.callback([o] { run(*o); });
}});

}  // namespace
}  // namespace tessera::cli

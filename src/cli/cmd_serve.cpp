// tessera serve --model DIR [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--threads N]
//               [--quantize q8|q6|q4] [--max-body-bytes N] [--ctx-size N] [--parallel N] [--alias NAME]
//               [--temperature T --top-p P --top-k K --min-p M --repeat-penalty R --presence-penalty X
//                --frequency-penalty X] [--max-tokens-default N]
//               [--kv-budget-mb N] [--max-queue N] [--cors-origin ORIGIN] [--prefix-cache-mb N]
//   An OpenAI-compatible HTTP server (see server/http_server.h for the routes). Sampling
//   parameters a request leaves out come from the flags, else from generation_config.json
//   (server/request_defaults.h); max_tokens from --max-tokens-default.
//
// Memory: the running sequences' state (KV cache + DeltaNet state, engine/state_budget.h) is
// held within a budget per rank, --kv-budget-mb or by default 80% of the memory the hosts have
// left after loading, less the prefix cache's budget (it fills while serving). Each admitted
// sequence reserves its worst case, so no rank runs out of memory mid-generation; requests wait
// in the queue until they fit. A context size the budget
// cannot hold for even one sequence is lowered to what it can. Prefix-cache snapshots have their
// own budget, --prefix-cache-mb per rank.
//
// Tensor parallel: `mpirun -np N tessera serve ...` — rank 0 serves HTTP and runs the
// scheduler; ranks > 0 follow its lock-step commands (run_model_command). When ranks share
// cores, add `--mca mpi_yield_when_idle 1` (OpenMPI busy-polls otherwise; see ARCHITECTURE.md).
//
// Rank 0 binds the port before loading the model, so /health answers 503 during a long load.
// SIGINT/SIGTERM stop it: in-flight requests end with an error, workers are released.
#include "chat/chat_template.h"
#include "chat/tool_call_format.h"
#include "cli/command.h"
#include "cli/prompt_input.h"
#include "cli/runtime.h"
#include "engine/scheduler.h"
#include "engine/state_budget.h"
#include "engine/stop_ids.h"
#include "io/model_config.h"
#include "server/api_error.h"
#include "server/http_server.h"
#include "server/openai_schema.h"
#include "server/request_defaults.h"
#include "tokenizer/tokenizer.h"
#include "util/log.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

namespace tessera::cli {
namespace {

struct ServeOptions {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  ModelOptions model_options;  // --threads, --quantize
  size_t max_body_bytes = 8u << 20;
  int64_t ctx_size = 0;
  int parallel = 16;
  int64_t prefix_cache_mb = 1024;
  std::string alias;
  std::string chat_template;
  // Sampling flags as request parameters ({"temperature": 0.7, ...}); only those given.
  nlohmann::ordered_json sampling_flags = nlohmann::ordered_json::object();
  int64_t max_tokens_default = 4096;
  int64_t kv_budget_mb = 0;  // 0: from the memory left after loading
  int64_t max_queue = 0;     // 0: no limit
  std::string cors_origin;
};

// generation_config.json, then the flags on top. Checked once here by the request schema, so a
// bad value fails at start-up, naming it, rather than turning every request into a 400.
nlohmann::ordered_json request_defaults(const ServeOptions& o) {
  nlohmann::ordered_json defaults = server::generation_config_defaults(o.model);
  for (const auto& [key, value] : o.sampling_flags.items()) defaults[key] = value;
  nlohmann::ordered_json probe = defaults;
  probe["prompt"] = "x";
  try {
    server::parse_completion(probe);
  } catch (const server::ApiError& e) {
    fail("bad default sampling parameter (generation_config.json or a flag): {}", e.what());
  }
  return defaults;
}

std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) { g_stop_requested.store(true); }

std::string range_text(const Range& r) { return fmt::format("[{},{})", r.begin, r.end); }

void log_shard_plan(const Model& model) {
  const ShardPlan& p = model.shard_plan();
  const ModelConfig& c = model.config();
  std::string line = fmt::format("shard plan: {} rank(s); rank 0 holds q heads {} of {}, kv heads {} of {}", p.world,
                                 range_text(p.q_heads), c.num_attention_heads, range_text(p.kv_heads), c.num_key_value_heads);
  if (c.num_full_attention_layers() < c.num_hidden_layers)
    line += fmt::format(", linear value heads {} of {}", range_text(p.linear_value_heads), c.linear.num_value_heads);
  if (c.moe.num_experts > 0)
    line += fmt::format(", expert columns {} of {}", range_text(p.moe_intermediate), c.moe.moe_intermediate_size);
  line += fmt::format(", vocab rows {} of {}; {:.1f} MB of weights", range_text(p.vocab), c.vocab_size,
                      static_cast<double>(model.weight_bytes()) / 1e6);
  log_info("{}", line);
}

constexpr double kMiB = 1024.0 * 1024.0;

// The per-rank budget for sequence state, and the context size lowered to what it can hold.
int64_t state_budget(const ServeOptions& o, const SequenceStateSize& size, const std::vector<MemoryUsage>& memory,
                     int64_t& ctx_size) {
  // The prefix cache fills up to its own budget while serving: the default leaves room for it.
  const int64_t free_share = default_state_budget(memory);  // 80% of the free memory per rank; 0: unknown
  int64_t budget =
      o.kv_budget_mb > 0 ? o.kv_budget_mb << 20 : default_state_budget(memory, o.prefix_cache_mb << 20);
  if (budget <= 0 && o.kv_budget_mb <= 0 && free_share > 0)
    fail("the prefix cache (--prefix-cache-mb {}) takes all of 80% of the free memory ({:.1f} MiB per rank), leaving "
         "none for sequence state; lower --prefix-cache-mb or set --kv-budget-mb", o.prefix_cache_mb,
         static_cast<double>(free_share) / kMiB);
  if (budget <= 0) {
    log_warn("cannot tell how much memory is available; sequence state is not limited (set --kv-budget-mb)");
    return 0;
  }
  const int64_t fits = size.tokens_within(budget);
  if (fits < 1)
    fail("the state budget of {:.1f} MiB per rank cannot hold one sequence: each needs {:.1f} MiB of fixed state plus "
         "{:.1f} KiB per token; raise --kv-budget-mb", static_cast<double>(budget) / kMiB,
         static_cast<double>(size.bytes_per_sequence) / kMiB, static_cast<double>(size.bytes_per_token) / 1024.0);
  if (fits < ctx_size) {
    log_warn("context lowered from {} to {} tokens per sequence: that is what the state budget of {:.1f} MiB per rank "
             "holds ({}; {:.1f} KiB per token + {:.2f} MiB per sequence)", ctx_size, fits,
             static_cast<double>(budget) / kMiB,
             o.kv_budget_mb > 0 ? "--kv-budget-mb" : "80% of the free memory less the prefix cache",
             static_cast<double>(size.bytes_per_token) / 1024.0, static_cast<double>(size.bytes_per_sequence) / kMiB);
    ctx_size = fits;
  }
  return budget;
}

void serve(const ServeOptions& o) {
  if (o.parallel < 1) fail("--parallel must be at least 1");
  if (o.ctx_size < 0) fail("--ctx-size must be positive");
  if (o.max_tokens_default < 0) fail("--max-tokens-default must be 0 (up to the context) or positive");
  if (o.kv_budget_mb < 0) fail("--kv-budget-mb must be positive (or 0: from the free memory)");
  if (o.max_queue < 0) fail("--max-queue must be positive (or 0: no limit)");
  if (o.prefix_cache_mb < 0) fail("--prefix-cache-mb must be 0 (off) or more");
  const bool http_rank = launcher_rank() == 0;
  std::optional<Tokenizer> tokenizer;
  std::optional<ChatTemplate> chat_template;
  std::unique_ptr<server::ApiServer> api;
  nlohmann::ordered_json defaults;
  if (http_rank) {
    std::signal(SIGPIPE, SIG_IGN);  // a vanished client must be a failed write, not a dead server
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    // Cheap checks first, so a bad directory fails before the port is taken or weights are read.
    load_model_config(o.model);
    o.model_options.load_options();  // a bad --quantize fails here, not after the port is taken
    tokenizer.emplace(Tokenizer::load(o.model));
    chat_template.emplace(load_chat_template(o.model, o.chat_template));
    defaults = request_defaults(o);
    server::ServerOptions so;
    so.host = o.host;
    so.port = o.port;
    so.api_key = o.api_key;
    so.max_body_bytes = o.max_body_bytes;
    so.cors_origin = o.cors_origin;
    so.model_id = !o.alias.empty() ? o.alias : std::filesystem::absolute(o.model).lexically_normal().filename().string();
    if (so.model_id.empty()) so.model_id = std::filesystem::absolute(o.model).lexically_normal().parent_path().filename().string();
    api = std::make_unique<server::ApiServer>(so);
    api->start();
    log_info("listening on http://{}:{} (loading {}; /health answers 503 until ready)", o.host, api->port(), o.model);
  }
  const auto load_start = std::chrono::steady_clock::now();
  run_model_command(o.model_options, o.model, [&](LockstepEngine& engine, Runtime& rt) {
    if (!api) fail("rank 0 of the MPI job did not see itself as rank 0 in OMPI_COMM_WORLD_RANK/PMIX_RANK/PMI_RANK");
    const ModelConfig& config = engine.model().config();
    log_info("model loaded in {:.1f}s", std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count());
    log_shard_plan(engine.model());
    int64_t ctx_size = o.ctx_size > 0 ? o.ctx_size : config.max_position_embeddings;
    if (ctx_size <= 0) ctx_size = 32768;
    if (config.max_position_embeddings > 0 && ctx_size > config.max_position_embeddings)
      log_warn("--ctx-size {} exceeds the model's max_position_embeddings {}", ctx_size, config.max_position_embeddings);

    const std::vector<MemoryUsage> memory = engine.gather_memory();
    api->metrics().set_rank_memory(memory);
    SchedulerOptions sched;
    sched.state_size = SequenceStateSize::of(config, rt.comm->size());
    sched.state_budget_bytes = state_budget(o, sched.state_size, memory, ctx_size);
    sched.max_queued = o.max_queue;
    sched.max_active = o.parallel;
    sched.prefix_cache_bytes = o.prefix_cache_mb << 20;
    sched.stop_ids = serving_stop_ids(config, *tokenizer);
    sched.allowed_vocab = std::min<int64_t>(config.vocab_size, tokenizer->vocab_size());
    Scheduler scheduler(engine, &*tokenizer, sched, &api->metrics());
    server::ServingContext context{scheduler, *tokenizer, *chat_template, default_template_context(o.model), ctx_size};
    context.request_defaults = defaults;
    context.default_max_tokens = o.max_tokens_default;
    log_info("defaults for parameters a request leaves out: {}, max_tokens {} ({})", defaults.dump(),
             o.max_tokens_default > 0 ? std::to_string(o.max_tokens_default) : "up to the context",
             to_string(detect_tool_call_format(chat_template->source())) + std::string(" tool calls"));
    // Whatever happens below, the HTTP threads must be gone before `context` is.
    struct StopServer {
      server::ApiServer& api;
      ~StopServer() { api.stop(); }
    } stop_server{*api};
    api->attach(context);
    log_info("ready: serving '{}' on http://{}:{} ({} rank(s), context {} tokens, {} parallel sequences, "
             "prefix cache {} MiB per rank)",
             api->options().model_id, o.host, api->port(), rt.comm->size(), ctx_size, o.parallel, o.prefix_cache_mb);
    if (sched.state_budget_bytes > 0)
      log_info("sequence state budget {:.1f} MiB per rank: {:.1f} KiB per token + {:.2f} MiB per sequence; "
               "{} sequence(s) of the full context fit at once", static_cast<double>(sched.state_budget_bytes) / kMiB,
               static_cast<double>(sched.state_size.bytes_per_token) / 1024.0,
               static_cast<double>(sched.state_size.bytes_per_sequence) / kMiB,
               sched.state_budget_bytes / sched.state_size.bytes_for(ctx_size));

    std::atomic<bool> serving{true};
    std::thread watcher([&] {
      while (serving.load() && !g_stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      scheduler.stop();
    });
    try {
      scheduler.run();
    } catch (...) {
      serving.store(false);
      watcher.join();
      throw;
    }
    serving.store(false);
    watcher.join();
    log_info("shutting down");
  });
}

const bool registered = register_command({"serve", "Serve an OpenAI-compatible HTTP API", [](CLI::App& sub) {
  auto o = std::make_shared<ServeOptions>();
  sub.add_option("--model", o->model, "checkpoint directory (with tokenizer.json and a chat template)")->required();
  sub.add_option("--host", o->host, "address to listen on (default 127.0.0.1)");
  sub.add_option("--port", o->port, "port to listen on; 0 picks a free one (default 8080)")->check(CLI::Range(0, 65535));
  sub.add_option("--api-key", o->api_key, "require 'Authorization: Bearer KEY' on /v1/* and /bench/*");
  add_model_options(sub, o->model_options);
  sub.add_option("--max-body-bytes", o->max_body_bytes, "largest accepted request body (default 8 MiB)");
  sub.add_option("--ctx-size", o->ctx_size, "tokens per sequence, prompt + completion (default: max_position_embeddings)");
  sub.add_option("--parallel", o->parallel, "sequences decoded concurrently; more requests queue (default 16)");
  sub.add_option("--prefix-cache-mb", o->prefix_cache_mb,
                 "memory per rank for prompt-state snapshots reused by later prompts with the same prefix; 0: off "
                 "(default 1024)");
  sub.add_option("--chat-template", o->chat_template, "chat template file to use instead of the model's");
  sub.add_option("--alias", o->alias, "model name reported by /v1/models (default: the directory name)");
  // Sampling defaults: only the flags given override generation_config.json.
  struct SamplingFlag {
    const char* flag;
    const char* param;
    CLI::Option* option;
    double value;
  };
  auto flags = std::make_shared<std::vector<SamplingFlag>>(std::vector<SamplingFlag>{
      {"--temperature", "temperature", nullptr, 0}, {"--top-p", "top_p", nullptr, 0}, {"--top-k", "top_k", nullptr, 0},
      {"--min-p", "min_p", nullptr, 0}, {"--repeat-penalty", "repetition_penalty", nullptr, 0},
      {"--presence-penalty", "presence_penalty", nullptr, 0}, {"--frequency-penalty", "frequency_penalty", nullptr, 0}});
  for (SamplingFlag& f : *flags)
    f.option = sub.add_option(f.flag, f.value, fmt::format("default '{}' of requests that leave it out (default: "
                                                           "generation_config.json)", f.param));
  sub.add_option("--max-tokens-default", o->max_tokens_default,
                 "max_tokens of a request that gives none; 0: up to the context (default 4096)");
  sub.add_option("--kv-budget-mb", o->kv_budget_mb,
                 "MiB per rank for the running sequences' KV cache + DeltaNet state; requests wait until theirs fits "
                 "(default: 80% of the memory free after loading, less --prefix-cache-mb)");
  sub.add_option("--max-queue", o->max_queue, "requests that may wait for a slot; more get 503 (default: no limit)");
  sub.add_option("--cors-origin", o->cors_origin, "allow browser requests from this origin ('*': any); default: no CORS headers");
  sub.callback([o, flags] {
    for (const SamplingFlag& f : *flags) {
      if (f.option->count() == 0) continue;
      if (std::string_view(f.param) == "top_k") o->sampling_flags[f.param] = static_cast<int64_t>(f.value);
      else o->sampling_flags[f.param] = f.value;
    }
    serve(*o);
  });
}});

}  // namespace
}  // namespace tessera::cli

// What every model-running subcommand shares: the communicator (MPI when launched by mpirun,
// else single process), the thread pool, and the lock-step split between rank 0 (runs the
// command, prints) and the workers (follow rank 0's commands until it is done).
#pragma once

#include "engine/lockstep.h"

#include <CLI/CLI.hpp>
#include "model/model.h"
#include "parallel/communicator.h"
#include "parallel/launch_env.h"
#include "util/thread_pool.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tessera::cli {

struct Runtime {
  explicit Runtime(int threads);
  ~Runtime();
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<ThreadPool> pool;
};

// Options every model-running subcommand takes.
struct ModelOptions {
  int threads = 0;       // --threads: compute threads per rank (0 = all cores)
  std::string quantize;  // --quantize: "", "q8", "q6" or "q4"
  LoadOptions load_options() const;  // throws tessera::Error on a bad --quantize
};
void add_model_options(CLI::App& sub, ModelOptions& options);

// Loads the model on every rank, then runs `leader` on rank 0 while the other ranks serve
// its commands. An error on any rank of a multi-rank job ends the whole job with exit 1.
// `after_workers` runs on ranks > 0 once rank 0 has shut the engine down, for collectives
// that rank 0 issues after the lock-step phase (e.g. gathering every rank's peak RSS).
void run_model_command(const ModelOptions& options, const std::string& model_dir,
                       const std::function<void(LockstepEngine& engine, Runtime& runtime)>& leader,
                       const std::function<void(Runtime& runtime)>& after_workers = nullptr);
inline void run_model_command(int threads, const std::string& model_dir,
                              const std::function<void(LockstepEngine& engine, Runtime& runtime)>& leader,
                              const std::function<void(Runtime& runtime)>& after_workers = nullptr) {
  run_model_command(ModelOptions{threads, ""}, model_dir, leader, after_workers);
}

// "1,2,3" → {1, 2, 3}; throws tessera::Error naming the option on bad input.
std::vector<int32_t> parse_id_list(const std::string& text, const std::string& option);

// Peak resident set size of this process, bytes.
int64_t peak_rss_bytes();

}  // namespace tessera::cli

#include "cli/runtime.h"

#include "cli/command.h"
#include "util/error.h"
#include "util/log.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

namespace tessera::cli {

Runtime::Runtime(int threads) {
  comm = launched_under_mpi() ? make_mpi_communicator() : make_single_process_communicator();
  set_output_rank(comm->rank());
  set_log_rank(comm->rank(), comm->size());
  pool = std::make_unique<ThreadPool>(threads);
}

Runtime::~Runtime() {
  pool.reset();
  if (comm && comm->size() > 1) {
    comm->barrier();
    comm.reset();
    finalize_mpi();
  }
}

LoadOptions ModelOptions::load_options() const {
  LoadOptions o;
  if (quantize == "q8") o.quantize_bits = 8;
  else if (quantize == "q6") o.quantize_bits = 6;
  else if (quantize == "q4") o.quantize_bits = 4;
  else if (!quantize.empty()) fail("--quantize: '{}' is not one of q8, q6, q4", quantize);
  return o;
}

void add_model_options(CLI::App& sub, ModelOptions& options) {
  sub.add_option("--threads", options.threads, "compute threads per rank (default: all cores)");
  sub.add_option("--quantize", options.quantize,
                 "quantize float weights on load: q8, q6 or q4 (MLX affine, group 64; routers stay as stored)");
}

void run_model_command(const ModelOptions& options, const std::string& model_dir,
                       const std::function<void(LockstepEngine&, Runtime&)>& leader,
                       const std::function<void(Runtime&)>& after_workers) {
  const LoadOptions load_options = options.load_options();
  Runtime runtime(options.threads);
  const bool multi = runtime.comm->size() > 1;
  try {
    auto model = Model::load(model_dir, *runtime.comm, *runtime.pool, load_options);
    LockstepEngine engine(*model);
    if (engine.is_leader()) {
      leader(engine, runtime);
      engine.shutdown();
    } else {
      engine.run_worker();
      if (after_workers) after_workers(runtime);
    }
  } catch (const std::exception& e) {
    if (!multi) throw;
    // One rank cannot recover alone: report with the rank and end every rank of the job.
    std::fprintf(stderr, "tessera: error on rank %d of %d: %s\n", runtime.comm->rank(), runtime.comm->size(), e.what());
    std::fflush(stderr);
    abort_all_ranks(1);
  }
}

std::vector<int32_t> parse_id_list(const std::string& text, const std::string& option) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) {
      size_t used = 0;
      long long v = 0;
      try {
        v = std::stoll(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != item.size() || v < 0 || v > INT32_MAX) fail("{}: '{}' is not a token id (non-negative integer)", option, item);
      ids.push_back(static_cast<int32_t>(v));
    }
    pos = comma + 1;
  }
  return ids;
}

int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace tessera::cli

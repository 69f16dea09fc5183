// Prometheus metrics for /metrics (text exposition format 0.0.4). Counters and histograms are
// updated from HTTP threads and, for token timings, from the scheduler's compute thread
// (Metrics is its SchedulerObserver); one mutex guards them, taken once per token at most.
// README.md ("Metrics") maps each name to its llama-server and vLLM equivalent.
//
//   tessera_requests_total{endpoint,status}        counter
//   tessera_requests_cancelled_total               counter (client went away mid-generation)
//   tessera_prompt_tokens_total                    counter
//   tessera_completion_tokens_total                counter
//   tessera_prefix_cache_queries_total             counter (prompt tokens looked up in the prefix cache)
//   tessera_prefix_cache_hits_total                counter (of those, tokens found: hit rate = hits / queries)
//   tessera_time_to_first_token_seconds            histogram (submit → first sampled token)
//   tessera_inter_token_latency_seconds            histogram (between tokens of one sequence)
//   tessera_queue_depth / tessera_active_sequences gauges
//   tessera_state_budget_bytes                     gauge (sequence-state budget per rank; 0: none)
//   tessera_state_reserved_bytes                   gauge (of it, reserved by admitted sequences)
//   tessera_resident_memory_bytes{rank}            gauge (each rank's RSS)
//   tessera_peak_resident_memory_bytes{rank}       gauge
//   tessera_model_loaded                           gauge (0 while loading)
#pragma once

#include "engine/memory_usage.h"
#include "engine/scheduler.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tessera::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last = +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics : public SchedulerObserver {
 public:
  Metrics();

  void count_request(const std::string& endpoint, int status);
  void count_cancelled();
  // A finished (or cancelled) sequence: its tokens and its prefix-cache lookup.
  void add_sequence(const SequenceStats& stats, bool used_prefix_cache);
  void set_rank_memory(std::vector<MemoryUsage> per_rank);

  void on_first_token(double seconds) override;
  void on_next_token(double seconds) override;

  struct Live {
    bool model_loaded = false;
    int64_t queued = 0;
    int64_t active = 0;
    int64_t state_budget_bytes = 0;
    int64_t state_reserved_bytes = 0;
  };
  std::string render(const Live& live) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t cancelled_ = 0;
  uint64_t prompt_tokens_ = 0;
  uint64_t completion_tokens_ = 0;
  uint64_t prefix_cache_queries_ = 0;
  uint64_t prefix_cache_hits_ = 0;
  Histogram ttft_;
  Histogram itl_;
  std::vector<MemoryUsage> rank_memory_;
};

// Every rank's memory, gathered on the scheduler's compute thread between two steps (it is a
// collective). nullopt if that does not happen within `wait` (a long prefill step) or the
// scheduler has stopped.
std::optional<std::vector<MemoryUsage>> gather_rank_memory(Scheduler& scheduler, std::chrono::milliseconds wait);

}  // namespace tessera::server

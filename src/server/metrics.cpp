#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace tessera::server {

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
}

Metrics::Metrics()
    : ttft_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
}

void Metrics::count_cancelled() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++cancelled_;
}

void Metrics::add_sequence(const SequenceStats& stats, bool used_prefix_cache) {
  auto count = [](int64_t n) { return static_cast<uint64_t>(std::max<int64_t>(n, 0)); };
  std::lock_guard<std::mutex> lock(mutex_);
  prompt_tokens_ += count(stats.prompt_tokens);
  completion_tokens_ += count(stats.completion_tokens);
  if (used_prefix_cache) {  // as vLLM counts: in tokens, so the rate weighs long prompts more
    prefix_cache_queries_ += count(stats.prompt_tokens);
    prefix_cache_hits_ += count(stats.cached_tokens);
  }
}

void Metrics::set_rank_memory(std::vector<MemoryUsage> per_rank) {
  std::lock_guard<std::mutex> lock(mutex_);
  rank_memory_ = std::move(per_rank);
}

void Metrics::on_first_token(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ttft_.observe(seconds);
}

void Metrics::on_next_token(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  itl_.observe(seconds);
}

std::string Metrics::render(const Live& live) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP tessera_requests_total HTTP requests by endpoint and status code.\n";
  out += "# TYPE tessera_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("tessera_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
  out += fmt::format(
      "# HELP tessera_requests_cancelled_total Generations stopped because the client went away.\n"
      "# TYPE tessera_requests_cancelled_total counter\ntessera_requests_cancelled_total {}\n"
      "# HELP tessera_prompt_tokens_total Prompt tokens processed.\n"
      "# TYPE tessera_prompt_tokens_total counter\ntessera_prompt_tokens_total {}\n"
      "# HELP tessera_completion_tokens_total Tokens generated.\n"
      "# TYPE tessera_completion_tokens_total counter\ntessera_completion_tokens_total {}\n"
      "# HELP tessera_prefix_cache_queries_total Prompt tokens looked up in the prefix cache.\n"
      "# TYPE tessera_prefix_cache_queries_total counter\ntessera_prefix_cache_queries_total {}\n"
      "# HELP tessera_prefix_cache_hits_total Prompt tokens whose state came from the prefix cache.\n"
      "# TYPE tessera_prefix_cache_hits_total counter\ntessera_prefix_cache_hits_total {}\n",
      cancelled_, prompt_tokens_, completion_tokens_, prefix_cache_queries_, prefix_cache_hits_);
  ttft_.render(out, "tessera_time_to_first_token_seconds", "Time from request submission to its first token.");
  itl_.render(out, "tessera_inter_token_latency_seconds", "Time between consecutive tokens of one sequence.");
  out += fmt::format(
      "# HELP tessera_queue_depth Requests waiting for an engine slot.\n"
      "# TYPE tessera_queue_depth gauge\ntessera_queue_depth {}\n"
      "# HELP tessera_active_sequences Sequences holding an engine slot.\n"
      "# TYPE tessera_active_sequences gauge\ntessera_active_sequences {}\n"
      "# HELP tessera_state_budget_bytes Sequence state (KV cache + DeltaNet state) the running sequences may hold per rank; 0: no limit.\n"
      "# TYPE tessera_state_budget_bytes gauge\ntessera_state_budget_bytes {}\n"
      "# HELP tessera_state_reserved_bytes Sequence state reserved by the admitted sequences (their worst case), per rank.\n"
      "# TYPE tessera_state_reserved_bytes gauge\ntessera_state_reserved_bytes {}\n"
      "# HELP tessera_model_loaded 1 once the model is loaded and requests are served.\n"
      "# TYPE tessera_model_loaded gauge\ntessera_model_loaded {}\n",
      live.queued, live.active, live.state_budget_bytes, live.state_reserved_bytes, live.model_loaded ? 1 : 0);
  out += "# HELP tessera_resident_memory_bytes Resident memory of each rank.\n";
  out += "# TYPE tessera_resident_memory_bytes gauge\n";
  for (size_t r = 0; r < rank_memory_.size(); ++r)
    out += fmt::format("tessera_resident_memory_bytes{{rank=\"{}\"}} {}\n", r, rank_memory_[r].resident_bytes);
  out += "# HELP tessera_peak_resident_memory_bytes Peak resident memory of each rank.\n";
  out += "# TYPE tessera_peak_resident_memory_bytes gauge\n";
  for (size_t r = 0; r < rank_memory_.size(); ++r)
    out += fmt::format("tessera_peak_resident_memory_bytes{{rank=\"{}\"}} {}\n", r, rank_memory_[r].peak_resident_bytes);
  return out;
}

std::optional<std::vector<MemoryUsage>> gather_rank_memory(Scheduler& scheduler, std::chrono::milliseconds wait) {
  // Shared, because a task that runs after we stopped waiting still writes its result.
  auto result = std::make_shared<std::vector<MemoryUsage>>();
  std::future<void> done = scheduler.run_on_compute_thread([result](LockstepEngine& engine) { *result = engine.gather_memory(); });
  if (done.wait_for(wait) != std::future_status::ready) return std::nullopt;
  try {
    done.get();
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return *result;
}

}  // namespace tessera::server

// A persistent pool of worker threads. Ops split their work with parallel_for; the calling
// thread is worker 0 and takes part, so a pool of size 1 runs everything inline.
//
// Decode issues hundreds of short ops per token, so the hand-off must be cheap and must not
// depend on every worker being on a CPU: chunks are claimed from a shared counter, and the
// caller returns as soon as every chunk is *done* — a worker that was descheduled (a noisy host,
// more ranks than cores) simply claims nothing when it wakes up. Workers spin briefly for the
// next job, then sleep.
//
// Threading contract: parallel_for is called from one thread at a time (the engine's compute
// thread). fn must be safe to call concurrently on disjoint ranges.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);  // num_threads <= 0 means all hardware threads
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end, worker) on contiguous chunks covering [0, n), claimed dynamically by
  // the threads; `grain` is the smallest chunk worth a hand-off. Returns when all are done.
  using RangeFn = std::function<void(int64_t begin, int64_t end, int worker)>;
  void parallel_for(int64_t n, const RangeFn& fn, int64_t grain = 1);

  static int default_threads();

  // Cost of the hand-offs, for `tessera bench`: regions dispatched to the workers so far, and
  // the seconds the caller spent after its own share waiting for the last chunk to finish
  // (barrier wait: imbalance plus wake-up latency).
  struct Stats {
    int64_t regions = 0;
    double wait_seconds = 0;
  };
  Stats stats() const { return stats_; }

 private:
  void worker_loop(int worker);
  // Claims and runs chunks of job `generation` until none are left.
  void work_on(uint64_t generation, int worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;

  // The current job. `claim_` packs (generation << kIndexBits) | next unclaimed index, so a
  // worker holding a stale generation can never claim a chunk of a newer job.
  static constexpr int kIndexBits = 40;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> claim_{0};
  std::atomic<int64_t> done_{0};
  const RangeFn* job_fn_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_chunk_ = 1;
  Stats stats_;  // written by the calling thread only
};

}  // namespace tessera

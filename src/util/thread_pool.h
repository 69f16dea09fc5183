// A persistent pool of worker threads. Ops split their work with parallel_for; the calling
// thread is worker 0 and takes part, so a pool of size 1 runs everything inline. Workers spin
// briefly before sleeping because decode issues hundreds of short ops per token and waking a
// sleeping thread costs more than the op.
//
// Threading contract: parallel_for may be called from one thread at a time (the engine's
// compute thread). fn must be safe to call concurrently on disjoint ranges.
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

 private:
  void worker_loop(int worker);
  void run_share(int worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> remaining_{0};
  bool stop_ = false;

  // The current job, valid while remaining_ > 0.
  const RangeFn* job_fn_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_chunk_ = 1;
  std::atomic<int64_t> job_next_{0};
};

}  // namespace tessera

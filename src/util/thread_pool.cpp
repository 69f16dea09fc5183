#include "util/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#define TS_CPU_RELAX() _mm_pause()
#else
#define TS_CPU_RELAX() ((void)0)
#endif

namespace tessera {

namespace {
constexpr int kSpinIterations = 1 << 15;
}

int ThreadPool::default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = default_threads();
  for (int w = 1; w < num_threads; ++w) workers_.emplace_back([this, w] { worker_loop(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(int worker) {
  // Chunks are claimed dynamically: on a noisy host one descheduled thread must not leave the
  // other spinning on a fixed half of the work.
  for (;;) {
    const int64_t begin = job_next_.fetch_add(job_chunk_, std::memory_order_relaxed);
    if (begin >= job_n_) break;
    (*job_fn_)(begin, std::min(job_n_, begin + job_chunk_), worker);
  }
  remaining_.fetch_sub(1, std::memory_order_acq_rel);
}

void ThreadPool::worker_loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      TS_CPU_RELAX();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_) return;
    run_share(worker);
  }
}

void ThreadPool::parallel_for(int64_t n, const RangeFn& fn, int64_t grain) {
  if (n <= 0) return;
  const int64_t min_chunk = std::max<int64_t>(grain, 1);
  if (size() == 1 || n <= min_chunk) {
    fn(0, n, 0);
    return;
  }
  job_fn_ = &fn;
  job_n_ = n;
  job_chunk_ = std::max(min_chunk, n / (static_cast<int64_t>(size()) * 8));
  job_next_.store(0, std::memory_order_relaxed);
  remaining_.store(size(), std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_share(0);
  while (remaining_.load(std::memory_order_acquire) != 0) TS_CPU_RELAX();
}

}  // namespace tessera

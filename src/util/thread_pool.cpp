#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#define TS_CPU_RELAX() _mm_pause()
#else
#define TS_CPU_RELAX() ((void)0)
#endif

namespace tessera {

namespace {
constexpr int kWorkerSpins = 1 << 14;  // before a worker sleeps on the condition variable
constexpr int kCallerSpins = 1 << 10;  // before the caller starts yielding its CPU
}  // namespace

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

void ThreadPool::work_on(uint64_t generation, int worker) {
  const uint64_t tag = generation << kIndexBits;
  uint64_t state = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((state & ~((uint64_t{1} << kIndexBits) - 1)) != tag) return;  // a newer job: not ours
    const int64_t begin = static_cast<int64_t>(state & ((uint64_t{1} << kIndexBits) - 1));
    if (begin >= job_n_) return;
    const int64_t end = std::min(job_n_, begin + job_chunk_);
    if (!claim_.compare_exchange_weak(state, tag | static_cast<uint64_t>(end), std::memory_order_acq_rel))
      continue;  // `state` was reloaded
    // The chunk is ours, so the caller is still waiting on this job and job_fn_ is its fn.
    (*job_fn_)(begin, end, worker);
    done_.fetch_add(end - begin, std::memory_order_acq_rel);
    state = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kWorkerSpins; ++spin) {
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
    work_on(gen, worker);
  }
}

void ThreadPool::parallel_for(int64_t n, const RangeFn& fn, int64_t grain) {
  if (n <= 0) return;
  const int64_t min_chunk = std::max<int64_t>(grain, 1);
  if (workers_.empty() || n <= min_chunk) {
    fn(0, n, 0);
    return;
  }
  job_fn_ = &fn;
  job_n_ = n;
  // Many small chunks: a claim costs one atomic, while a large last chunk leaves the other
  // threads idle until it finishes (with 4 chunks per thread, q4 decode lost ~8 % that way).
  job_chunk_ = std::max(min_chunk, n / (static_cast<int64_t>(size()) * 32));
  done_.store(0, std::memory_order_relaxed);
  const uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
  claim_.store(gen << kIndexBits, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.store(gen, std::memory_order_release);
  }
  wake_.notify_all();
  work_on(gen, 0);
  const auto wait_start = std::chrono::steady_clock::now();
  for (int spin = 0; done_.load(std::memory_order_acquire) < n; ++spin) {
    if (spin < kCallerSpins) TS_CPU_RELAX();
    else std::this_thread::yield();  // let a worker that holds a chunk have this CPU
  }
  ++stats_.regions;
  stats_.wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count();
}

}  // namespace tessera

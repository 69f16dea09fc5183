// ThreadPool::parallel_for: every index runs exactly once in chunks inside [0, n), on worker
// indices in [0, size()); back-to-back regions never mix (a late worker cannot run a chunk of an
// older job); separate pools driven from separate threads do not interfere; and the region
// count for `tessera bench` counts exactly the regions handed to workers. The threading contract
// (thread_pool.h) has one caller per pool at a time and fn must not throw, so nested calls and
// exceptions are not exercised.
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace tessera {
namespace {

// Runs one region and checks that each index of [0, n) was covered exactly once.
void expect_each_index_once(ThreadPool& pool, int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  std::atomic<bool> bad_range{false}, bad_worker{false};
  pool.parallel_for(
      n,
      [&](int64_t begin, int64_t end, int worker) {
        if (begin < 0 || end > n || begin >= end) bad_range = true;
        if (worker < 0 || worker >= pool.size()) bad_worker = true;
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      },
      grain);
  EXPECT_FALSE(bad_range) << "n=" << n << " grain=" << grain;
  EXPECT_FALSE(bad_worker) << "n=" << n << " grain=" << grain;
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "index " << i << " of " << n;
}

TEST(ThreadPool, EveryIndexRunsExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {1, 2, 3, 7, 64, 1000, 4099})
      for (int64_t grain : {1, 3, 64, 5000}) expect_each_index_once(pool, n, grain);
  }
}

TEST(ThreadPool, EmptyRangeCallsNothing) {
  ThreadPool pool(3);
  int calls = 0;
  pool.parallel_for(0, [&](int64_t, int64_t, int) { ++calls; });
  pool.parallel_for(-5, [&](int64_t, int64_t, int) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPool, ChunksRespectGrain) {
  ThreadPool pool(4);
  std::atomic<int64_t> smallest{1 << 30};
  std::atomic<int64_t> covered{0};
  const int64_t n = 1000, grain = 50;
  pool.parallel_for(
      n,
      [&](int64_t begin, int64_t end, int) {
        covered += end - begin;
        if (end != n) {  // only the last chunk may be shorter
          int64_t s = smallest.load();
          while (end - begin < s && !smallest.compare_exchange_weak(s, end - begin)) {}
        }
      },
      grain);
  EXPECT_EQ(covered.load(), n);
  EXPECT_GE(smallest.load(), grain);
}

TEST(ThreadPool, BackToBackRegionsDoNotMix) {
  // Each region writes its own generation number; a chunk run for a stale job would leave an
  // entry with the wrong number or a double count.
  ThreadPool pool(4);
  std::vector<std::atomic<int>> stamp(64);
  for (int region = 1; region <= 3000; ++region) {
    const int64_t n = 1 + region % 64;
    pool.parallel_for(n, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) stamp[static_cast<size_t>(i)].store(region);
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(stamp[static_cast<size_t>(i)].load(), region) << "region " << region;
  }
}

TEST(ThreadPool, SeparatePoolsFromSeparateThreads) {
  // No global state: two pools, each driven by its own thread, run at the same time.
  std::vector<std::thread> callers;
  std::atomic<int64_t> totals[2] = {0, 0};
  for (int c = 0; c < 2; ++c) {
    callers.emplace_back([&, c] {
      ThreadPool pool(2);
      for (int region = 0; region < 500; ++region)
        pool.parallel_for(100, [&](int64_t begin, int64_t end, int) {
          for (int64_t i = begin; i < end; ++i) totals[c] += i;
        });
    });
  }
  for (auto& t : callers) t.join();
  for (const auto& total : totals) EXPECT_EQ(total.load(), 500 * (99 * 100 / 2));
}

TEST(ThreadPool, CountsRegionsHandedToWorkers) {
  ThreadPool single(1);
  single.parallel_for(1000, [](int64_t, int64_t, int) {});
  EXPECT_EQ(single.stats().regions, 0);  // a pool of one runs inline

  ThreadPool pool(3);
  const auto noop = [](int64_t, int64_t, int) {};
  pool.parallel_for(10, noop, /*grain=*/10);  // one chunk: inline, not a region
  pool.parallel_for(0, noop);
  EXPECT_EQ(pool.stats().regions, 0);
  for (int i = 0; i < 7; ++i) pool.parallel_for(100, noop);
  EXPECT_EQ(pool.stats().regions, 7);
  EXPECT_GE(pool.stats().wait_seconds, 0.0);
}

TEST(ThreadPool, DestroysWhileWorkersSleep) {
  for (int i = 0; i < 20; ++i) {
    auto pool = std::make_unique<ThreadPool>(3);
    if (i % 2) pool->parallel_for(50, [](int64_t, int64_t, int) {});
    if (i % 4 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // workers go to sleep
    pool.reset();
  }
  SUCCEED();
}

}  // namespace
}  // namespace tessera

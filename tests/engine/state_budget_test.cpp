// The default state budget (engine/state_budget.h): 80% of each host's free memory split among
// the ranks it runs, the smallest share over all ranks, less what the prefix cache will take.
#include "engine/state_budget.h"

#include <gtest/gtest.h>

#include <vector>

namespace tessera {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

MemoryUsage on_host(int64_t host, int64_t available_mib) {
  MemoryUsage m;
  m.host_id = host;
  m.available_bytes = available_mib * kMiB;
  return m;
}

TEST(DefaultStateBudget, SmallestShareOfEightyPercent) {
  // Host 1 runs two ranks (1000 MiB each of 2000), host 2 one rank with 1500 MiB: 80% of 1000.
  const std::vector<MemoryUsage> ranks = {on_host(1, 2000), on_host(1, 2000), on_host(2, 1500)};
  EXPECT_EQ(default_state_budget(ranks), 1000 * kMiB / 5 * 4);
}

TEST(DefaultStateBudget, LeavesRoomForThePrefixCache) {
  const std::vector<MemoryUsage> ranks = {on_host(1, 1000)};
  EXPECT_EQ(default_state_budget(ranks, 300 * kMiB), 1000 * kMiB / 5 * 4 - 300 * kMiB);
  EXPECT_EQ(default_state_budget(ranks, 900 * kMiB), 0) << "nothing left is 0, never negative";
}

TEST(DefaultStateBudget, UnknownMemoryIsZero) { EXPECT_EQ(default_state_budget({}, 0), 0); }

}  // namespace
}  // namespace tessera

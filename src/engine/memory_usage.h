// Resident memory of this process, for /metrics and the benchmark endpoint, and the memory its
// host can still give, for the default sequence-state budget (state_budget.h). Each rank
// measures itself; LockstepEngine::gather_memory() collects every rank's numbers on rank 0.
#pragma once

#include <cstdint>

namespace tessera {

struct MemoryUsage {
  int64_t resident_bytes = 0;       // current RSS (/proc/self/statm)
  int64_t peak_resident_bytes = 0;  // high-water mark (getrusage ru_maxrss)
  // What the host (or the memory cgroup, when it sets a lower limit) can still hand out:
  // MemAvailable of /proc/meminfo. Shared by every rank on the host.
  int64_t available_bytes = 0;
  int64_t host_id = 0;              // hash of the host name: ranks with equal ids share `available_bytes`
};

MemoryUsage memory_usage_of_this_process();

}  // namespace tessera

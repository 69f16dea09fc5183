// Resident memory of this process, for /metrics and the benchmark endpoint. Each rank measures
// itself; LockstepEngine::gather_memory() collects every rank's numbers on rank 0.
#pragma once

#include <cstdint>

namespace tessera {

struct MemoryUsage {
  int64_t resident_bytes = 0;       // current RSS (/proc/self/statm)
  int64_t peak_resident_bytes = 0;  // high-water mark (getrusage ru_maxrss)
};

MemoryUsage memory_usage_of_this_process();

}  // namespace tessera

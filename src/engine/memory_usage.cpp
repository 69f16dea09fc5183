#include "engine/memory_usage.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

namespace tessera {

MemoryUsage memory_usage_of_this_process() {
  MemoryUsage usage;
  // statm's second field is resident pages; cheaper than parsing /proc/self/status.
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long long size = 0, resident = 0;
    if (std::fscanf(f, "%lld %lld", &size, &resident) == 2)
      usage.resident_bytes = static_cast<int64_t>(resident) * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  usage.peak_resident_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
  if (usage.peak_resident_bytes < usage.resident_bytes) usage.peak_resident_bytes = usage.resident_bytes;
  return usage;
}

}  // namespace tessera

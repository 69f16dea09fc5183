#include "engine/memory_usage.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <string>

namespace tessera {
namespace {

// One integer from a file such as a cgroup limit; nullopt-like -1 when absent or "max".
int64_t read_int(const char* path) {
  long long value = -1;
  if (FILE* f = std::fopen(path, "r")) {
    if (std::fscanf(f, "%lld", &value) != 1) value = -1;
    std::fclose(f);
  }
  return value;
}

int64_t meminfo_bytes(const char* key) {
  long long kib = -1;
  if (FILE* f = std::fopen("/proc/meminfo", "r")) {
    std::array<char, 256> line{};
    const std::string prefix = std::string(key) + ":";
    while (std::fgets(line.data(), static_cast<int>(line.size()), f)) {
      if (std::string(line.data()).rfind(prefix, 0) == 0) {
        std::sscanf(line.data() + prefix.size(), "%lld", &kib);
        break;
      }
    }
    std::fclose(f);
  }
  return kib < 0 ? -1 : static_cast<int64_t>(kib) * 1024;
}

// A container's memory limit is not in /proc/meminfo, which shows the host: subtract what the
// cgroup already uses from its limit (v2, else v1) when that is the tighter bound.
int64_t available_memory() {
  int64_t available = meminfo_bytes("MemAvailable");
  const int64_t total = meminfo_bytes("MemTotal");
  const std::pair<const char*, const char*> cgroups[] = {
      {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
      {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"}};
  for (const auto& [limit_file, usage_file] : cgroups) {
    const int64_t limit = read_int(limit_file), usage = read_int(usage_file);
    if (limit <= 0 || usage < 0) continue;
    if (total <= 0 || limit < total) available = available < 0 ? limit - usage : std::min(available, limit - usage);
    break;
  }
  return std::max<int64_t>(available, 0);
}

int64_t host_id() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return 0;
  return static_cast<int64_t>(std::hash<std::string>{}(std::string(name.data())));
}

}  // namespace

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
  usage.available_bytes = available_memory();
  usage.host_id = host_id();
  return usage;
}

}  // namespace tessera

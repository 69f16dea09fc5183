#include "util/log.h"

#include <cstdio>
#include <mutex>

namespace tessera {

namespace {
LogLevel g_level = LogLevel::kInfo;
int g_rank = 0;
int g_world = 1;
std::mutex g_mutex;
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
void set_log_rank(int rank, int world_size) {
  g_rank = rank;
  g_world = world_size;
}

void log_line(LogLevel level, const std::string& message) {
  if (level < g_level) return;
  // Workers only speak up for warnings and errors: rank 0 owns the terminal.
  if (g_rank != 0 && level < LogLevel::kWarn) return;
  static const char* kNames[] = {"debug", "info", "warn", "error"};
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_world > 1)
    std::fprintf(stderr, "[tessera %s rank %d/%d] %s\n", kNames[static_cast<int>(level)], g_rank,
                 g_world, message.c_str());
  else
    std::fprintf(stderr, "[tessera %s] %s\n", kNames[static_cast<int>(level)], message.c_str());
}

}  // namespace tessera

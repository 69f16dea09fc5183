#include "kernels/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace tessera {

bool cpu_has_avx512() {
  static const bool has = [] {
    const char* forced = std::getenv("TESSERA_ISA");
    if (forced && std::strcmp(forced, "avx2") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  }();
  return has;
}

bool cpu_has_avx512_vnni() {
  static const bool has = cpu_has_avx512() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi");
  return has;
}

const char* active_isa_name() { return cpu_has_avx512() ? "avx512" : "avx2"; }

}  // namespace tessera

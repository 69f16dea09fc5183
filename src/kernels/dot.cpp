#include "kernels/dot.h"

#include "kernels/kernel_set.h"

namespace tessera {

float dot_f32(const float* a, const float* b, int64_t n) { return kernels().dot_f32(a, b, n); }
void bf16_to_f32_row(const uint16_t* in, float* out, int64_t n) { kernels().bf16_to_f32_row(in, out, n); }

}  // namespace tessera

#include "kernels/conv1d.h"

#include "kernels/activation.h"

#include <algorithm>

namespace tessera {

void causal_conv1d_silu_range(const float* weight, int64_t kernel, float* state, const float* x, int64_t n_tokens,
                              int64_t channels, int64_t first, int64_t last, float* y) {
  const int64_t hist = kernel - 1;
  // u = concat(state, x): row i < hist is state row i, else x row i - hist.
  auto u = [&](int64_t i) { return i < hist ? state + i * channels : x + (i - hist) * channels; };
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* yt = y + t * channels;
    for (int64_t c = first; c < last; ++c) {
      float acc = 0;
      for (int64_t j = 0; j < kernel; ++j) acc += weight[c * kernel + j] * u(t + j)[c];
      yt[c] = silu(acc);
    }
  }
  // New state: the last `hist` rows of concat(state, x). Row i comes from row n_tokens + i,
  // which is later, so ascending order never reads a row it has already overwritten.
  for (int64_t i = 0; i < hist; ++i) {
    const float* src = u(n_tokens + i);
    std::copy(src + first, src + last, state + i * channels + first);
  }
}

void causal_conv1d_silu(const float* weight, int64_t kernel, float* state, const float* x, int64_t n_tokens,
                        int64_t channels, float* y) {
  causal_conv1d_silu_range(weight, kernel, state, x, n_tokens, channels, 0, channels, y);
}

}  // namespace tessera

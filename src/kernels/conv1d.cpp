#include "kernels/conv1d.h"

#include "kernels/activation.h"

#include <algorithm>
#include <vector>

namespace tessera {

void causal_conv1d_silu(const float* weight, int64_t kernel, float* state, const float* x, int64_t n_tokens,
                        int64_t channels, float* y) {
  const int64_t hist = kernel - 1;
  // u = concat(state, x): row i < hist is state row i, else x row i - hist.
  auto u = [&](int64_t i) { return i < hist ? state + i * channels : x + (i - hist) * channels; };
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* yt = y + t * channels;
    for (int64_t c = 0; c < channels; ++c) {
      float acc = 0;
      for (int64_t j = 0; j < kernel; ++j) acc += weight[c * kernel + j] * u(t + j)[c];
      yt[c] = silu(acc);
    }
  }
  // New state: the last `hist` rows of concat(state, x).
  std::vector<float> next(static_cast<size_t>(hist * channels));
  for (int64_t i = 0; i < hist; ++i) std::copy_n(u(n_tokens + i), channels, next.data() + i * channels);
  std::copy(next.begin(), next.end(), state);
}

}  // namespace tessera

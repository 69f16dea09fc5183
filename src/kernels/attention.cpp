#include "kernels/attention.h"

#include "kernels/dot.h"

#include <algorithm>
#include <cmath>

namespace tessera {

void attend(const float* q, const float* keys, const float* values, int64_t stride, int64_t n_keys,
            int64_t head_dim, float scale, float* out, float* scores) {
  float m = -INFINITY;
  for (int64_t j = 0; j < n_keys; ++j) {
    scores[j] = dot_f32(q, keys + j * stride, head_dim) * scale;
    m = std::max(m, scores[j]);
  }
  double sum = 0;
  for (int64_t j = 0; j < n_keys; ++j) {
    scores[j] = std::exp(scores[j] - m);
    sum += scores[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  std::fill(out, out + head_dim, 0.0f);
  for (int64_t j = 0; j < n_keys; ++j) {
    const float p = scores[j] * inv;
    const float* v = values + j * stride;
    for (int64_t e = 0; e < head_dim; ++e) out[e] += p * v[e];
  }
}

}  // namespace tessera

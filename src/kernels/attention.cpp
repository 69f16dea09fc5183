#include "kernels/attention.h"

#include "kernels/dot.h"

#include <algorithm>
#include <cmath>

namespace tessera {

// One pass over the cache with an online softmax: the running maximum m, normaliser l and the
// weighted sum of values are rescaled whenever a larger score appears, so keys and values are
// read once, together, and no score buffer is needed.
void attend(const float* q, const float* keys, const float* values, int64_t stride, int64_t n_keys,
            int64_t head_dim, float scale, float* out) {
  float m = -INFINITY;
  double l = 0;
  std::fill(out, out + head_dim, 0.0f);
  for (int64_t j = 0; j < n_keys; ++j) {
    const float s = dot_f32(q, keys + j * stride, head_dim) * scale;
    if (s > m) {
      const float rescale = std::exp(m - s);  // 0 on the first key (m = -inf)
      for (int64_t e = 0; e < head_dim; ++e) out[e] *= rescale;
      l *= rescale;
      m = s;
    }
    const float p = std::exp(s - m);
    l += p;
    const float* v = values + j * stride;
    for (int64_t e = 0; e < head_dim; ++e) out[e] += p * v[e];
  }
  const float inv = static_cast<float>(1.0 / l);
  for (int64_t e = 0; e < head_dim; ++e) out[e] *= inv;
}

}  // namespace tessera

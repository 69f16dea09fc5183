#include "kernels/attention.h"

#include "kernels/dot.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tessera {

// One pass over the cache with an online softmax: per query head, the running maximum m,
// normaliser l and the weighted sum of values are rescaled whenever a larger score appears, so
// keys and values are read once, together, and no score buffer is needed.
void attend_group(const float* const* q, int64_t n_heads, const float* keys, const float* values, int64_t stride,
                  int64_t n_keys, int64_t head_dim, float scale, float* const* out) {
  std::vector<float> m(static_cast<size_t>(n_heads), -INFINITY);
  std::vector<double> l(static_cast<size_t>(n_heads), 0.0);
  for (int64_t i = 0; i < n_heads; ++i) std::fill(out[i], out[i] + head_dim, 0.0f);
  for (int64_t j = 0; j < n_keys; ++j) {
    const float* k = keys + j * stride;
    const float* v = values + j * stride;
    for (int64_t i = 0; i < n_heads; ++i) {
      float* o = out[i];
      const float s = dot_f32(q[i], k, head_dim) * scale;
      if (s > m[i]) {
        const float rescale = std::exp(m[i] - s);  // 0 on the first key (m = -inf)
        for (int64_t e = 0; e < head_dim; ++e) o[e] *= rescale;
        l[i] *= rescale;
        m[i] = s;
      }
      const float p = std::exp(s - m[i]);
      l[i] += p;
      for (int64_t e = 0; e < head_dim; ++e) o[e] += p * v[e];
    }
  }
  for (int64_t i = 0; i < n_heads; ++i) {
    const float inv = static_cast<float>(1.0 / l[i]);
    for (int64_t e = 0; e < head_dim; ++e) out[i][e] *= inv;
  }
}

void attend(const float* q, const float* keys, const float* values, int64_t stride, int64_t n_keys,
            int64_t head_dim, float scale, float* out) {
  attend_group(&q, 1, keys, values, stride, n_keys, head_dim, scale, &out);
}

}  // namespace tessera

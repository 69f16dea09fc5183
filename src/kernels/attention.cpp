#include "kernels/attention.h"

#include "kernels/kernel_set.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tessera {

namespace {
constexpr int64_t kBlock = 16;  // keys per block: their rows stay in L1 while every head uses them
}  // namespace

// One pass over the cache, a block of keys at a time, with an online softmax per query head:
// the block's scores are computed for every head, then each head's running maximum m, normaliser
// l and weighted sum of values are rescaled once if the block raised the maximum, and the block's
// values are added with weights exp(s - m). Keys and values are read once for the whole group,
// and no score buffer beyond one block is needed.
void attend_group(const float* const* q, int64_t n_heads, const float* keys, const float* values, int64_t stride,
                  int64_t n_keys, int64_t head_dim, float scale, float* const* out) {
  const KernelSet& k = kernels();
  std::vector<float> m(static_cast<size_t>(n_heads), -INFINITY), s(static_cast<size_t>(n_heads * kBlock));
  std::vector<double> l(static_cast<size_t>(n_heads), 0.0);
  for (int64_t i = 0; i < n_heads; ++i) std::fill(out[i], out[i] + head_dim, 0.0f);
  for (int64_t j0 = 0; j0 < n_keys; j0 += kBlock) {
    const int64_t nb = std::min(kBlock, n_keys - j0);
    for (int64_t i = 0; i < n_heads; ++i) {
      float* si = s.data() + i * kBlock;
      float block_max = -INFINITY;
      int64_t b = 0;
      for (; b + 4 <= nb; b += 4) k.attention_scores4(q[i], keys + (j0 + b) * stride, stride, head_dim, si + b);
      for (; b < nb; ++b) si[b] = k.dot_f32(q[i], keys + (j0 + b) * stride, head_dim);
      for (b = 0; b < nb; ++b) {
        si[b] *= scale;
        block_max = std::max(block_max, si[b]);
      }
      float* o = out[i];
      if (block_max > m[i]) {
        const float rescale = std::exp(m[i] - block_max);  // 0 on the first block (m = -inf)
        for (int64_t e = 0; e < head_dim; ++e) o[e] *= rescale;
        l[i] *= rescale;
        m[i] = block_max;
      }
      float p[kBlock];
      for (int64_t b = 0; b < nb; ++b) {
        p[b] = std::exp(si[b] - m[i]);
        l[i] += p[b];
      }
      k.attention_add_values(p, nb, values + j0 * stride, stride, head_dim, o);
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

// Causal softmax attention of one query head over a KV cache (spec §3.4 step 5).
//   q: [head_dim]; keys/values: position-major cache, row j of this KV head at
//   keys + j * stride; attends to positions [0, n_keys). out: [head_dim].
// Softmax in fp32, computed online in one pass; scale = head_dim^-0.5 is passed in.
#pragma once

#include <cstdint>

namespace tessera {

void attend(const float* q, const float* keys, const float* values, int64_t stride, int64_t n_keys,
            int64_t head_dim, float scale, float* out);

}  // namespace tessera

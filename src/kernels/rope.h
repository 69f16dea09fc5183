// Rotary position embedding, rotate-half (NeoX) pairing on the first `rot` dims of a head
// (spec §3.3): for j < rot/2, (x[j], x[j+rot/2]) is rotated by angle pos * inv_freq[j],
// inv_freq[j] = theta^(-2j/rot). Dims [rot, head_dim) pass through.
#pragma once

#include <cstdint>
#include <vector>

namespace tessera {

class Rope {
 public:
  Rope(int64_t rotary_dim, double theta);
  // Rotates `n_heads` consecutive heads of length head_stride starting at x, for position pos.
  void apply(float* x, int64_t n_heads, int64_t head_stride, int64_t pos) const;

 private:
  int64_t rot_;
  std::vector<float> inv_freq_;
};

}  // namespace tessera

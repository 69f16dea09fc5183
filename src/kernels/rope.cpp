#include "kernels/rope.h"

#include <cmath>

namespace tessera {

Rope::Rope(int64_t rotary_dim, double theta) : rot_(rotary_dim) {
  for (int64_t j = 0; j < rot_ / 2; ++j)
    inv_freq_.push_back(static_cast<float>(1.0 / std::pow(theta, static_cast<double>(2 * j) / static_cast<double>(rot_))));
}

void Rope::apply(float* x, int64_t n_heads, int64_t head_stride, int64_t pos) const {
  const int64_t half = rot_ / 2;
  for (int64_t j = 0; j < half; ++j) {
    const float angle = static_cast<float>(pos) * inv_freq_[j];
    const float c = std::cos(angle), s = std::sin(angle);
    for (int64_t h = 0; h < n_heads; ++h) {
      float* head = x + h * head_stride;
      const float a = head[j], b = head[j + half];
      head[j] = a * c - b * s;
      head[j + half] = b * c + a * s;
    }
  }
}

}  // namespace tessera

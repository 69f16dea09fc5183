// Scalar activations used by the layers. softplus follows PyTorch's threshold (x > 20 → x).
#pragma once

#include <cmath>
#include <cstdint>

namespace tessera {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

// out[i] = silu(gate[i]) * up[i]
void swiglu(const float* gate, const float* up, float* out, int64_t n);
// In-place softmax over n values, max-subtracted.
void softmax(float* x, int64_t n);

}  // namespace tessera

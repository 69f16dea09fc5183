// Normalisations over one row (spec §3.2). Weights are fp32 and already include the "+1" of
// zero-centred norms (the loader folds it in for HF checkpoints; MLX ships it baked in).
#pragma once

#include <cstdint>

namespace tessera {

// y = x * rsqrt(mean(x^2) + eps) * w        (x and y may alias)
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);
// x *= rsqrt(sum(x^2) + eps)                (Gated DeltaNet q/k; eps fixed at 1e-6 by HF)
void l2_norm(float* x, int64_t n, float eps);
// y = rms_norm(x, w) * silu(z)              (Gated DeltaNet output norm: norm first, then gate)
void gated_rms_norm(const float* x, const float* z, const float* w, float* y, int64_t n, float eps);

}  // namespace tessera

// Load-time quantization of a float weight into the MLX affine format (spec §5), so users with
// bf16 Hugging Face checkpoints can trade memory and bandwidth for a little accuracy
// (`--quantize q8|q6|q4`). Per row and group of `group_size` columns:
//   scale = (max - min) / (2^bits - 1), bias = min, code = round((w - bias) / scale),
// and w ≈ scale * code + bias. Codes are packed as MLX packs them (little-endian bit stream).
#pragma once

#include "tensor/matrix.h"

namespace tessera {

// src must be kF32 or kBF16 with cols % group_size == 0.
Matrix quantize_affine(const Matrix& src, int bits, int group_size);

}  // namespace tessera

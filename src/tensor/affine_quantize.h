// Load-time quantization of a float weight into the MLX affine format (spec §5), so users with
// bf16 Hugging Face checkpoints can trade memory and bandwidth for a little accuracy
// (`--quantize q8|q6|q4`). Per row and group of `group_size` columns:
//   scale = (max - min) / (2^bits - 1), bias = min (both rounded to bf16, as MLX stores them),
//   code = round((w - bias) / scale) clamped to [0, 2^bits - 1], and w ≈ scale * code + bias.
// Codes are packed as MLX packs them (little-endian bit stream).
#pragma once

#include "tensor/matrix.h"
#include "util/thread_pool.h"

namespace tessera {

// src must be kF32 or kBF16 with cols % group_size == 0. Rows are spread over `pool` if given
// (quantizing a large checkpoint on load is otherwise minutes of one core).
Matrix quantize_affine(const Matrix& src, int bits, int group_size, ThreadPool* pool = nullptr);

}  // namespace tessera

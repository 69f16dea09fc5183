// MLX affine quantization of a float weight (spec §5), used by `--quantize` at load time and by
// `tessera quantize` to write mlx-community checkpoints. Per row and group of `group_size` columns,
// MLX's rule (mlx.core.quantize, affine mode; tools/mlx_quant.py is the NumPy twin):
//   scale = ±max((max - min) / (2^bits - 1), 1e-7), signed so the extreme of larger magnitude
//   ("edge") sits at a code end; then scale = edge / round(edge / scale) and bias = edge (bias 0
//   when that rounds to 0), so 0.0 is representable (exactly
//   before the bf16 rounding). Scale and bias are rounded to bf16
//   (what MLX stores for a bf16 model) and code = round((w - bias) / scale) clamped to
//   [0, 2^bits - 1] is chosen against the ROUNDED values, so dequantization uses exactly what is
//   stored (MLX itself rounds against the float32 values, which can move a code by one in rare
//   near-ties). Codes are packed as MLX packs them (little-endian bit stream per row).
#pragma once

#include "tensor/matrix.h"
#include "util/thread_pool.h"

namespace tessera {

// src must be kF32 or kBF16 with cols % group_size == 0. Rows are spread over `pool` if given
// (quantizing a large checkpoint on load is otherwise minutes of one core).
Matrix quantize_affine(const Matrix& src, int bits, int group_size, ThreadPool* pool = nullptr);

}  // namespace tessera

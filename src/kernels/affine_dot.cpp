// The affine dot product's layout rules and its entry points, which run the active kernel set's
// bodies (kernels/kernel_set.h); the bodies live in affine_dot_{avx2,avx512}.cpp and
// scalar_kernels.cpp.
#include "kernels/affine_dot.h"

#include "kernels/affine_codes.h"
#include "kernels/kernel_set.h"
#include "tensor/dtype.h"

namespace tessera {

bool affine_dot_supported(int bits, int group_size) { return bits >= 2 && bits <= 8 && group_size % 32 == 0; }

// ---- activation layout ----------------------------------------------------------------------
// The kernels unpack codes in blocks and multiply each block with a contiguous run of xq, so
// xq is stored in that unpack order (a permutation within a unit of 16, 32 or 64 codes):
//   8 bits: natural order.
//   4 bits: byte b holds codes 2b (low nibble) and 2b+1 (high). Per unit of 64 codes (32 if the
//           group is 32): the even codes first, then the odd ones — one 16-byte load gives 16
//           low and 16 high nibbles (AVX2), one 32-byte load 32 of each (AVX-512).
//   6 bits: per 32 codes (24 bytes), two 12-byte halves each give codes 0..7 then 8..15 of the
//           half; the AVX2 body interleaves the halves: [0..7, 16..23, 8..15, 24..31].
//   other:  per 16 codes, two 8-code 64-bit windows packed to 16 bits: [0,4,1,5, 8,12,9,13,
//           2,6,3,7, 10,14,11,15] (see the generic loop).
int affine_unpack_unit(int group_size, int bits) {
  if (bits == 8) return 1;
  if (bits == 4) return group_size % 64 == 0 ? 64 : 32;
  if (bits == 6) return 32;
  return 16;
}

int64_t affine_position_in_unit(int64_t i, int unit, int bits) {
  if (bits == 8) return 0;
  if (bits == 4) {
    const int64_t odd = i & 1, byte = i >> 1;  // byte within the unit
    if (unit == 32) return odd * 16 + byte;
    return odd * 32 + byte;  // a 64-unit: bytes 0..31 in order, evens then odds
  }
  if (bits == 6) {
    const int64_t half = i / 16, m = i % 16;
    return (m / 8) * 16 + half * 8 + m % 8;
  }
  static constexpr int kInverse16[16] = {0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15};
  return kInverse16[i];
}

int64_t affine_unpack_position(int64_t c, int group_size, int bits) {
  const int unit = affine_unpack_unit(group_size, bits);
  return c - c % unit + affine_position_in_unit(c % unit, unit, bits);
}

void prepare_affine_activations(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out) {
  const int64_t groups = cols / group_size;
  out->group_sums.resize(static_cast<size_t>(groups));
  out->group_steps.resize(static_cast<size_t>(groups));
  out->xq.resize(static_cast<size_t>(2 * cols));
  kernels().prepare_affine_activations(x, cols, group_size, bits, out);
}

void affine_dot_rows(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y, int64_t y_stride) {
  kernels().affine_dot_rows(rows, tokens, y, y_stride);
}

namespace reference {

float affine_dot(const uint8_t* codes, const void* scales, const void* biases, bool bf16_params,
                 const AffineActivations& a, int64_t cols, int group_size, int bits) {
  const int64_t groups = cols / group_size, row_bytes = cols * bits / 8;
  double total = 0;
  for (int64_t g = 0; g < groups; ++g) {
    int64_t hi = 0, lo = 0;
    for (int64_t c = g * group_size; c < (g + 1) * group_size; ++c) {
      const int64_t code = affine_code(codes, row_bytes, c, bits), at = affine_unpack_position(c, group_size, bits);
      hi += code * a.xq[at];
      lo += code * a.xq[cols + at];
    }
    total += static_cast<double>(group_param(scales, g, bf16_params)) * a.group_steps[g] *
                 (static_cast<double>(hi) + static_cast<double>(lo) / 32768.0) +
             static_cast<double>(group_param(biases, g, bf16_params)) * a.group_sums[g];
  }
  return static_cast<float>(total);
}

}  // namespace reference
}  // namespace tessera

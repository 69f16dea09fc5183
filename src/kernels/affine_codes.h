// Reading MLX affine codes (spec §5.3): each row is a little-endian bit stream, code c sits
// at bits [c*bits, (c+1)*bits). 3-, 5- and 6-bit codes straddle 32-bit words, so codes are
// read through a 64-bit window starting at the code's first byte.
#pragma once

#include <cstdint>
#include <cstring>

namespace tessera {

inline uint32_t affine_code(const uint8_t* row, int64_t row_bytes, int64_t c, int bits) {
  const int64_t bit = c * bits;
  const int64_t byte = bit >> 3;
  uint64_t window = 0;
  const int64_t avail = row_bytes - byte;
  std::memcpy(&window, row + byte, avail >= 8 ? 8 : static_cast<size_t>(avail));
  return static_cast<uint32_t>((window >> (bit & 7)) & ((1u << bits) - 1u));
}

}  // namespace tessera

#include "tensor/matrix.h"

#include "util/error.h"

namespace tessera {

AlignedBuffer::AlignedBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) fail("out of memory allocating {} bytes for a weight", bytes);
  data_.reset(static_cast<uint8_t*>(p));
}

size_t Matrix::bytes() const {
  size_t stored = data.size();
  if (view) {
    const int64_t per_row = format == WeightFormat::kAffine ? row_bytes : cols * (format == WeightFormat::kBF16 ? 2 : 4);
    stored = static_cast<size_t>(rows * per_row);
  }
  return stored + scales.bytes() + biases.bytes();
}

}  // namespace tessera

// MLX affine-quantized tensors as a checkpoint stores them (spec §5.4): "<base>.weight" holds
// uint32 words of packed `bits`-bit codes, "<base>.scales" and "<base>.biases" one float per
// group of `group_size` input columns. find_quantized_tensor checks every stored width against
// the logical shape the config implies and the bits / group size config.json declares, so the
// loader can trust the layout it gets.
#pragma once

#include "io/model_config.h"
#include "io/safetensors.h"

#include <optional>
#include <string>
#include <vector>

namespace tessera {

struct QuantizedTensor {
  const TensorInfo* weight = nullptr;  // [..., rows, cols * bits / 32] U32
  const TensorInfo* scales = nullptr;  // [..., rows, cols / group_size] F32/BF16/F16
  const TensorInfo* biases = nullptr;  // same shape as scales
  int bits = 0;
  int group_size = 0;
};

// `tensor` is the ".weight" name, `shape` its logical (unpacked) shape [..., rows, cols].
// Returns nullopt when the tensor is stored unquantized (no "<base>.scales"); throws
// tessera::Error naming the tensor when it is absent or its stored parts do not fit together.
std::optional<QuantizedTensor> find_quantized_tensor(const Checkpoint& checkpoint, const std::string& tensor,
                                                     const std::vector<int64_t>& shape,
                                                     const std::optional<QuantizationConfig>& declared);

// "<base>" of "<base>.weight": the module path that names scales, biases and config overrides.
std::string quantized_module_name(const std::string& tensor);

}  // namespace tessera

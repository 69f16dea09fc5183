#include "io/quantized_tensor.h"

#include "util/error.h"

#include <fmt/ranges.h>

#include <algorithm>

namespace tessera {

namespace {

std::string shape_str(const std::vector<int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// Declared bits / group size of one module: its override, else the global quantization block;
// 0 where config.json says nothing (then inferred from the stored widths).
std::pair<int, int> declared_bits_and_group(const std::optional<QuantizationConfig>& q, const std::string& module) {
  if (!q) return {0, 0};
  auto it = q->overrides.find(module);
  if (it != q->overrides.end() && it->second.quantized) return {it->second.bits, it->second.group_size};
  return {q->bits, q->group_size};
}

bool leads_with(const TensorInfo& t, const std::vector<int64_t>& lead) {
  return t.shape.size() == lead.size() + 1 && std::equal(lead.begin(), lead.end(), t.shape.begin());
}

}  // namespace

std::string quantized_module_name(const std::string& tensor) {
  const std::string suffix = ".weight";
  if (tensor.size() > suffix.size() && tensor.compare(tensor.size() - suffix.size(), suffix.size(), suffix) == 0)
    return tensor.substr(0, tensor.size() - suffix.size());
  return tensor;
}

std::optional<QuantizedTensor> find_quantized_tensor(const Checkpoint& checkpoint, const std::string& tensor,
                                                     const std::vector<int64_t>& shape,
                                                     const std::optional<QuantizationConfig>& declared) {
  const std::string base = quantized_module_name(tensor);
  const TensorInfo* weight = checkpoint.find(tensor);
  const TensorInfo* scales = checkpoint.find(base + ".scales");
  const TensorInfo* biases = checkpoint.find(base + ".biases");
  if (!weight)
    fail("checkpoint {}: missing tensor '{}' (expected shape {})", checkpoint.dir().string(), tensor, shape_str(shape));
  const std::string where = weight->file->path().string();
  if (!scales) {
    if (weight->dtype == DType::kU32)
      fail("{}: quantized tensor '{}' (U32 codes) has no '{}.scales'", where, tensor, base);
    return std::nullopt;
  }
  if (!biases)
    fail("{}: quantized tensor '{}' has scales but no '{}.biases' (only affine mode is supported)", where, tensor,
         base);
  if (weight->dtype != DType::kU32)
    fail("{}: quantized tensor '{}' must hold U32 packed codes, found {}", where, tensor, dtype_name(weight->dtype));
  const int64_t cols = shape.back();
  const std::vector<int64_t> lead(shape.begin(), shape.end() - 1);
  auto [bits, group] = declared_bits_and_group(declared, base);

  if (!leads_with(*scales, lead))
    fail("{}: '{}.scales' has shape {}, expected {} + [groups]", where, base, scales->shape_string(), shape_str(lead));
  const int64_t groups = scales->shape.back();
  if (groups <= 0 || cols % groups != 0)
    fail("{}: '{}': {} scale groups do not divide the input dimension {}", where, base, groups, cols);
  const int64_t inferred_group = cols / groups;
  if (group == 0) group = static_cast<int>(inferred_group);
  if (cols % group != 0)
    fail("{}: '{}': group size {} does not divide the input dimension {}", where, base, group, cols);
  if (inferred_group != group)
    fail("{}: '{}.scales' has {} groups per row but group size {} over {} columns needs {}", where, base, groups,
         group, cols, cols / group);
  if (biases->shape != scales->shape)
    fail("{}: '{}.biases' shape {} differs from scales {}", where, base, biases->shape_string(),
         scales->shape_string());

  const int64_t packed = weight->shape.back();
  if (bits == 0) bits = static_cast<int>(packed * 32 / cols);
  if (bits != 2 && bits != 3 && bits != 4 && bits != 5 && bits != 6 && bits != 8)
    fail("{}: '{}': {} bits is not supported (2, 3, 4, 5, 6, 8 are)", where, base, bits);
  if (!leads_with(*weight, lead) || packed * 32 != cols * bits)
    fail("{}: quantized tensor '{}' has packed shape {}; {} bits over {} columns needs {} + [{}] uint32 words", where,
         tensor, weight->shape_string(), bits, cols, shape_str(lead), cols * bits / 32);
  if (!is_float_dtype(scales->dtype) || !is_float_dtype(biases->dtype))
    fail("{}: '{}.scales'/'.biases' must be float, found {}", where, base, dtype_name(scales->dtype));
  return QuantizedTensor{weight, scales, biases, bits, group};
}

}  // namespace tessera

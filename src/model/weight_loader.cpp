#include "model/weight_loader.h"

#include "tensor/affine_quantize.h"
#include "util/error.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

namespace tessera {

const char* split_name(Split split) {
  switch (split) {
    case Split::kReplicated: return "replicated";
    case Split::kColumn: return "column";
    case Split::kRow: return "row";
  }
  return "?";
}

namespace {

std::string shape_str(const std::vector<int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// Scales and biases stay bf16 when both are stored so (matrix.h, GroupParams); else fp32.
bool keeps_bf16_params(const TensorInfo& scales, const TensorInfo& biases) {
  return scales.dtype == DType::kBF16 && biases.dtype == DType::kBF16;
}

void size_group_params(const TensorInfo& scales, const TensorInfo& biases, int64_t n, Matrix* m) {
  const bool bf16 = keeps_bf16_params(scales, biases);
  for (GroupParams* p : {&m->scales, &m->biases}) {
    p->f32.clear();
    p->bf16.clear();
    if (bf16) p->bf16.resize(static_cast<size_t>(n));
    else p->f32.resize(static_cast<size_t>(n));
  }
}

void copy_group_params(const TensorInfo& scales, const TensorInfo& biases, int64_t src, int64_t dst, Matrix* m) {
  if (m->scales.is_bf16()) {
    std::memcpy(&m->scales.bf16[dst], scales.data + src * 2, 2);
    std::memcpy(&m->biases.bf16[dst], biases.data + src * 2, 2);
  } else {
    m->scales.f32[dst] = scales.element_f32(src);
    m->biases.f32[dst] = biases.element_f32(src);
  }
}

std::string base_name(const std::string& tensor) {
  const std::string suffix = ".weight";
  if (tensor.size() > suffix.size() && tensor.compare(tensor.size() - suffix.size(), suffix.size(), suffix) == 0)
    return tensor.substr(0, tensor.size() - suffix.size());
  return tensor;
}

}  // namespace

WeightLoader::WeightLoader(const Checkpoint& checkpoint, const ModelConfig& config, bool dry_run)
    : checkpoint_(checkpoint), config_(config), dry_run_(dry_run) {}

const TensorInfo& WeightLoader::expect(const std::string& tensor, const std::vector<int64_t>& shape) {
  const TensorInfo* info = checkpoint_.find(tensor);
  if (!info) fail("checkpoint {}: missing tensor '{}' (expected shape {})", checkpoint_.dir().string(), tensor, shape_str(shape));
  used_.insert(tensor);
  if (info->shape != shape)
    fail("{}: tensor '{}' has shape {} but the config implies {}", info->file->path().string(), tensor,
         info->shape_string(), shape_str(shape));
  if (!is_float_dtype(info->dtype))
    fail("{}: tensor '{}' has dtype {}, expected a float type (F32, BF16, F16)", info->file->path().string(),
         tensor, dtype_name(info->dtype));
  return *info;
}

bool WeightLoader::quantized_info(const SourceSlice& part, Quantized* q) {
  const std::string base = base_name(part.tensor);
  const TensorInfo* weight = checkpoint_.find(part.tensor);
  const TensorInfo* scales = checkpoint_.find(base + ".scales");
  const TensorInfo* biases = checkpoint_.find(base + ".biases");
  if (!weight) fail("checkpoint {}: missing tensor '{}' (expected shape {})", checkpoint_.dir().string(), part.tensor, shape_str(part.shape));
  const std::string where = weight->file->path().string();
  if (!scales) {
    if (weight->dtype == DType::kU32)
      fail("{}: quantized tensor '{}' (U32 codes) has no '{}.scales'", where, part.tensor, base);
    return false;
  }
  if (!biases) fail("{}: quantized tensor '{}' has scales but no '{}.biases' (only affine mode is supported)", where, part.tensor, base);
  if (weight->dtype != DType::kU32)
    fail("{}: quantized tensor '{}' must hold U32 packed codes, found {}", where, part.tensor, dtype_name(weight->dtype));
  used_.insert(part.tensor);
  used_.insert(base + ".scales");
  used_.insert(base + ".biases");
  const int64_t cols = part.shape.back();
  std::vector<int64_t> lead(part.shape.begin(), part.shape.end() - 1);
  // Declared bits/group size: per-module override, else the global quantization block.
  int bits = 0, group = 0;
  if (config_.quantization) {
    bits = config_.quantization->bits;
    group = config_.quantization->group_size;
    auto it = config_.quantization->overrides.find(base);
    if (it != config_.quantization->overrides.end() && it->second.quantized) {
      bits = it->second.bits;
      group = it->second.group_size;
    }
  }
  if (scales->shape.size() != part.shape.size() || !std::equal(lead.begin(), lead.end(), scales->shape.begin()))
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
    fail("{}: '{}.biases' shape {} differs from scales {}", where, base, biases->shape_string(), scales->shape_string());
  const int64_t packed = weight->shape.back();
  if (bits == 0) bits = static_cast<int>(packed * 32 / cols);
  if (bits != 2 && bits != 3 && bits != 4 && bits != 5 && bits != 6 && bits != 8)
    fail("{}: '{}': {} bits is not supported (2, 3, 4, 5, 6, 8 are)", where, base, bits);
  if (weight->shape.size() != part.shape.size() || !std::equal(lead.begin(), lead.end(), weight->shape.begin()) ||
      packed * 32 != cols * bits)
    fail("{}: quantized tensor '{}' has packed shape {}; {} bits over {} columns needs {} + [{}] uint32 words",
         where, part.tensor, weight->shape_string(), bits, cols, shape_str(lead), cols * bits / 32);
  if (!is_float_dtype(scales->dtype) || !is_float_dtype(biases->dtype))
    fail("{}: '{}.scales'/'.biases' must be float, found {}", where, base, dtype_name(scales->dtype));
  *q = {weight, scales, biases, bits, group};
  return true;
}

void WeightLoader::record(Split split, const SourceSlice& part, size_t bytes) {
  // Expert slices of one stack are recorded once, with the expert count.
  int64_t params = 0;
  for (const Range& r : part.rows) params += r.size() * part.cols.size();
  if (part.expert > 0 && !plan_.empty() && plan_.back().tensor == part.tensor) {
    plan_.back().experts += 1;
    plan_.back().bytes += bytes;
    plan_.back().params += params;
    return;
  }
  plan_.push_back({part.tensor, split, part.rows, part.cols, 1, bytes, params});
}

Matrix WeightLoader::matrix(Split split, const std::vector<SourceSlice>& parts_in, bool quantizable) {
  TS_CHECK(!parts_in.empty(), "matrix with no sources");
  std::vector<SourceSlice> parts = parts_in;
  std::vector<Quantized> quant(parts.size());
  std::vector<const TensorInfo*> plain(parts.size(), nullptr);
  bool any_quant = false, any_plain = false, all_bf16 = true;
  int64_t cols = -1, rows = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    SourceSlice& p = parts[i];
    TS_CHECK(p.shape.size() >= 2, "matrix source {} needs a 2-D shape", p.tensor);
    const int64_t full_rows = p.shape[p.shape.size() - 2], full_cols = p.shape.back();
    if (p.rows.empty()) p.rows = {{0, full_rows}};
    // Adjacent ranges (e.g. all of gate then all of up on a single rank) read as one block.
    std::vector<Range> merged;
    for (const Range& r : p.rows) {
      if (!merged.empty() && merged.back().end == r.begin) merged.back().end = r.end;
      else merged.push_back(r);
    }
    p.rows = std::move(merged);
    if (p.cols.end < 0) p.cols = {0, full_cols};
    if (quantized_info(p, &quant[i])) {
      any_quant = true;
    } else {
      plain[i] = &expect(p.tensor, p.shape);
      any_plain = true;
      all_bf16 &= plain[i]->dtype == DType::kBF16;
    }
    for (const Range& r : p.rows) {
      TS_CHECK(r.begin >= 0 && r.end <= full_rows && r.begin <= r.end, "row range of {}", p.tensor);
      rows += r.size();
    }
    TS_CHECK(p.cols.begin >= 0 && p.cols.end <= full_cols, "column range of {}", p.tensor);
    if (cols >= 0 && cols != p.cols.size()) TS_CHECK(false, "sources of one matrix differ in width ({})", p.tensor);
    cols = p.cols.size();
  }
  if (any_quant && any_plain)
    fail("checkpoint {}: '{}' mixes quantized and unquantized sources", checkpoint_.dir().string(), parts[0].tensor);
  Matrix m;
  m.rows = rows;
  m.cols = cols;
  if (any_quant) {
    m.format = WeightFormat::kAffine;
    m.bits = quant[0].bits;
    m.group_size = quant[0].group_size;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (quant[i].bits != m.bits || quant[i].group_size != m.group_size)
        fail("checkpoint {}: '{}' and '{}' are stacked but quantized differently", checkpoint_.dir().string(),
             parts[0].tensor, parts[i].tensor);
      if (parts[i].cols.begin % m.group_size != 0 || parts[i].cols.size() % m.group_size != 0)
        fail("cannot split quantized tensor '{}' by input columns [{}, {}): the split must fall on group boundaries "
             "(group size {}); use fewer ranks", parts[i].tensor, parts[i].cols.begin, parts[i].cols.end, m.group_size);
    }
    m.row_bytes = cols * m.bits / 8;
  } else {
    m.format = all_bf16 ? WeightFormat::kBF16 : WeightFormat::kF32;
  }
  constexpr int kQuantizeGroup = 64;
  const bool quantize = quantize_bits_ > 0 && quantizable && m.format != WeightFormat::kAffine && cols % kQuantizeGroup == 0;
  const size_t elem = m.format == WeightFormat::kBF16 ? 2 : 4;
  // Bytes held in memory, as loaded: a scale and a bias per group, each bf16 or fp32 as
  // size_group_params keeps them (--quantize writes bf16).
  const size_t param_bytes =
      m.format == WeightFormat::kAffine && !keeps_bf16_params(*quant[0].scales, *quant[0].biases) ? 4 : 2;
  const size_t total = m.format == WeightFormat::kAffine
                           ? static_cast<size_t>(rows * m.row_bytes) + 2 * param_bytes * rows * (cols / m.group_size)
                           : static_cast<size_t>(rows * cols) * elem;
  const size_t held =
      quantize ? static_cast<size_t>(rows * cols * quantize_bits_ / 8) + 2 * param_bytes * rows * (cols / kQuantizeGroup)
               : total;
  for (const auto& p : parts) record(split, p, held / parts.size());
  if (dry_run_) {
    m.rows = 0;  // an empty matrix: nothing was read
    return m;
  }

  // One contiguous block of whole rows in the stored format can be used straight from the
  // mapping: no copy, and the page cache holds it once however many processes map it.
  if (!quantize && parts.size() == 1 && parts[0].rows.size() == 1 && parts[0].cols.size() == parts[0].shape.back()) {
    const SourceSlice& p = parts[0];
    const int64_t full_rows = p.shape[p.shape.size() - 2];
    const int64_t first_row = (p.expert >= 0 ? p.expert * full_rows : 0) + p.rows[0].begin;
    if (m.format == WeightFormat::kAffine) {
      const Quantized& q = quant[0];
      m.view = q.weight->data + first_row * m.row_bytes;
      const int64_t groups = cols / m.group_size;
      size_group_params(*q.scales, *q.biases, rows * groups, &m);
      for (int64_t i = 0; i < rows * groups; ++i) copy_group_params(*q.scales, *q.biases, first_row * groups + i, i, &m);
      bytes_loaded_ += m.bytes();
      return m;
    }
    if (plain[0]->dtype == DType::kBF16 || plain[0]->dtype == DType::kF32) {
      m.view = plain[0]->data + first_row * cols * static_cast<int64_t>(dtype_size(plain[0]->dtype));
      bytes_loaded_ += m.bytes();
      return m;
    }
  }

  if (m.format == WeightFormat::kAffine) {
    m.data = AlignedBuffer(static_cast<size_t>(rows * m.row_bytes));
    size_group_params(*quant[0].scales, *quant[0].biases, rows * (cols / m.group_size), &m);
  } else {
    m.data = AlignedBuffer(static_cast<size_t>(rows * cols) * elem);
  }
  int64_t out_row = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const SourceSlice& p = parts[i];
    const int64_t full_rows = p.shape[p.shape.size() - 2];
    const int64_t row_base = p.expert >= 0 ? p.expert * full_rows : 0;
    for (const Range& r : p.rows) {
      for (int64_t row = r.begin; row < r.end; ++row, ++out_row) {
        const int64_t src_row = row_base + row;
        if (m.format == WeightFormat::kAffine) {
          const Quantized& q = quant[i];
          const int64_t src_row_bytes = q.weight->shape.back() * 4;
          std::memcpy(m.data.data() + out_row * m.row_bytes,
                      q.weight->data + src_row * src_row_bytes + p.cols.begin * m.bits / 8,
                      static_cast<size_t>(m.row_bytes));
          const int64_t src_groups = q.scales->shape.back(), groups = cols / m.group_size;
          const int64_t g0 = p.cols.begin / m.group_size;
          for (int64_t g = 0; g < groups; ++g) copy_group_params(*q.scales, *q.biases, src_row * src_groups + g0 + g, out_row * groups + g, &m);
        } else {
          const TensorInfo& t = *plain[i];
          const int64_t full_cols = p.shape.back();
          if (m.format == WeightFormat::kBF16) {
            std::memcpy(m.data.data() + out_row * cols * 2, t.data + (src_row * full_cols + p.cols.begin) * 2,
                        static_cast<size_t>(cols) * 2);
          } else {
            float* dst = reinterpret_cast<float*>(m.data.data()) + out_row * cols;
            for (int64_t c = 0; c < cols; ++c) dst[c] = t.element_f32(src_row * full_cols + p.cols.begin + c);
          }
        }
      }
    }
    // Drop the mapped pages this part covered so they do not count towards the rank's RSS.
    const TensorInfo& src = m.format == WeightFormat::kAffine ? *quant[i].weight : *plain[i];
    const size_t slab = src.nbytes / static_cast<size_t>(p.expert >= 0 ? p.shape[0] : 1);
    src.file->release_range(src.file_offset + slab * static_cast<size_t>(std::max<int64_t>(p.expert, 0)), slab);
  }
  if (quantize) m = quantize_affine(m, quantize_bits_, kQuantizeGroup, quantize_pool_);
  bytes_loaded_ += m.bytes();
  return m;
}

std::vector<float> WeightLoader::vector(const std::string& tensor, const std::vector<int64_t>& shape,
                                        const std::vector<Range>& elements, bool add_one) {
  const TensorInfo& t = expect(tensor, shape);
  std::vector<Range> ranges = elements;
  if (ranges.empty()) ranges = {{0, t.numel()}};
  int64_t n = 0;
  for (const Range& r : ranges) n += r.size();
  plan_.push_back({tensor, elements.empty() ? Split::kReplicated : Split::kColumn, ranges, {0, 1}, 1,
                   static_cast<size_t>(n) * 4, n});
  if (dry_run_) return {};
  std::vector<float> out;
  out.reserve(static_cast<size_t>(n));
  for (const Range& r : ranges)
    for (int64_t i = r.begin; i < r.end; ++i) out.push_back(t.element_f32(i) + (add_one ? 1.0f : 0.0f));
  bytes_loaded_ += out.size() * 4;
  return out;
}

std::vector<std::string> WeightLoader::unused_tensors() const {
  std::vector<std::string> out;
  for (const auto& [name, info] : checkpoint_.all())
    if (!used_.count(name)) out.push_back(name);
  return out;
}

}  // namespace tessera

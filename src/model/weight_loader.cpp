#include "model/weight_loader.h"

#include "tensor/affine_quantize.h"
#include "util/error.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

namespace tessera {

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

constexpr int kQuantizeGroup = 64;  // group size of --quantize

// Fills the defaults (all rows, all columns), reads adjacent row ranges as one block (all of
// gate then all of up on a single rank) and checks the ranges lie inside the tensor.
SourceSlice normalised(SourceSlice p) {
  TS_CHECK(p.shape.size() >= 2, "matrix source {} needs a 2-D shape", p.tensor);
  const int64_t full_rows = p.shape[p.shape.size() - 2], full_cols = p.shape.back();
  if (p.rows.empty()) p.rows = {{0, full_rows}};
  std::vector<Range> merged;
  for (const Range& r : p.rows) {
    if (!merged.empty() && merged.back().end == r.begin) merged.back().end = r.end;
    else merged.push_back(r);
  }
  p.rows = std::move(merged);
  if (p.cols.end < 0) p.cols = {0, full_cols};
  for (const Range& r : p.rows)
    TS_CHECK(r.begin >= 0 && r.end <= full_rows && r.begin <= r.end, "row range of {}", p.tensor);
  TS_CHECK(p.cols.begin >= 0 && p.cols.end <= full_cols, "column range of {}", p.tensor);
  return p;
}

// Row of the stored tensor where the slice's row 0 lies (experts are stacked along rows).
int64_t first_stored_row(const SourceSlice& p) {
  return p.expert >= 0 ? p.expert * p.shape[p.shape.size() - 2] : 0;
}

// One contiguous block of whole rows in the stored format can be used straight from the
// mapping: no copy, and the page cache holds it once however many processes map it. Group
// parameters are still copied (they are converted or kept bf16 as GroupParams holds them).
// The kernels read a view as an array of float, bf16 or uint32 words, so it must be aligned to
// that element: HF's writer pads the header to keep every tensor 8-byte aligned, but a writer that
// does not would make those loads misaligned (undefined behaviour); such a tensor is copied.
bool view_in_place(const SourceSlice& p, const TensorInfo* plain, const std::optional<QuantizedTensor>& q, Matrix& m) {
  if (p.rows.size() != 1 || p.cols.size() != p.shape.back()) return false;
  if (!q && plain->dtype != DType::kBF16 && plain->dtype != DType::kF32) return false;  // F16 is converted
  const int64_t first_row = first_stored_row(p) + p.rows[0].begin;
  const uint8_t* start = q ? q->weight->data + first_row * m.row_bytes
                           : plain->data + first_row * m.cols * static_cast<int64_t>(dtype_size(plain->dtype));
  const size_t element = q ? sizeof(uint32_t) : dtype_size(plain->dtype);
  if (reinterpret_cast<uintptr_t>(start) % element != 0) return false;
  m.view = start;
  if (q) {
    const int64_t groups = m.cols / m.group_size;
    size_group_params(*q->scales, *q->biases, m.rows * groups, &m);
    for (int64_t i = 0; i < m.rows * groups; ++i)
      copy_group_params(*q->scales, *q->biases, first_row * groups + i, i, &m);
  }
  return true;
}

// Copies the slice's rows into m from output row `out_row` on; returns the next output row.
int64_t copy_rows(const SourceSlice& p, const TensorInfo* plain, const std::optional<QuantizedTensor>& q, Matrix& m,
                  int64_t out_row) {
  const int64_t cols = m.cols, full_cols = p.shape.back();
  for (const Range& r : p.rows) {
    for (int64_t row = r.begin; row < r.end; ++row, ++out_row) {
      const int64_t src_row = first_stored_row(p) + row;
      if (q) {
        const int64_t src_row_bytes = q->weight->shape.back() * 4;
        std::memcpy(m.data.data() + out_row * m.row_bytes,
                    q->weight->data + src_row * src_row_bytes + p.cols.begin * m.bits / 8,
                    static_cast<size_t>(m.row_bytes));
        const int64_t src_groups = q->scales->shape.back(), groups = cols / m.group_size;
        const int64_t g0 = p.cols.begin / m.group_size;
        for (int64_t g = 0; g < groups; ++g)
          copy_group_params(*q->scales, *q->biases, src_row * src_groups + g0 + g, out_row * groups + g, &m);
      } else if (m.format == WeightFormat::kBF16) {
        std::memcpy(m.data.data() + out_row * cols * 2, plain->data + (src_row * full_cols + p.cols.begin) * 2,
                    static_cast<size_t>(cols) * 2);
      } else {
        float* dst = reinterpret_cast<float*>(m.data.data()) + out_row * cols;
        for (int64_t c = 0; c < cols; ++c) dst[c] = plain->element_f32(src_row * full_cols + p.cols.begin + c);
      }
    }
  }
  return out_row;
}

// Drops the mapped pages a copied slice covered so they do not count towards the rank's RSS.
void release_source_pages(const SourceSlice& p, const TensorInfo& stored) {
  const size_t slab = stored.nbytes / static_cast<size_t>(p.expert >= 0 ? p.shape[0] : 1);
  stored.file->release_range(stored.file_offset + slab * static_cast<size_t>(std::max<int64_t>(p.expert, 0)), slab);
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

WeightLoader::Source WeightLoader::resolve(const SourceSlice& part) {
  Source src{.slice = normalised(part)};
  src.quantized = find_quantized_tensor(checkpoint_, src.slice.tensor, src.slice.shape, config_.quantization);
  if (src.quantized) {
    const std::string module = quantized_module_name(src.slice.tensor);
    used_.insert(src.slice.tensor);
    used_.insert(module + ".scales");
    used_.insert(module + ".biases");
  } else {
    src.plain = &expect(src.slice.tensor, src.slice.shape);
  }
  return src;
}

// The matrix's header (rows, cols, format, bits, group size) from its sources, which must agree
// in width and format; a column split of quantized sources must fall on group boundaries.
Matrix WeightLoader::layout(const std::vector<Source>& sources) const {
  const SourceSlice& first = sources[0].slice;
  Matrix m;
  m.cols = first.cols.size();
  bool all_bf16 = true;
  for (const Source& s : sources) {
    for (const Range& r : s.slice.rows) m.rows += r.size();
    TS_CHECK(s.slice.cols.size() == m.cols, "sources of one matrix differ in width ({})", s.slice.tensor);
    if (s.quantized.has_value() != sources[0].quantized.has_value())
      fail("checkpoint {}: '{}' mixes quantized and unquantized sources", checkpoint_.dir().string(), first.tensor);
    all_bf16 &= s.plain && s.plain->dtype == DType::kBF16;
  }
  if (!sources[0].quantized) {
    m.format = all_bf16 ? WeightFormat::kBF16 : WeightFormat::kF32;
    return m;
  }
  m.format = WeightFormat::kAffine;
  m.bits = sources[0].quantized->bits;
  m.group_size = sources[0].quantized->group_size;
  for (const Source& s : sources) {
    if (s.quantized->bits != m.bits || s.quantized->group_size != m.group_size)
      fail("checkpoint {}: '{}' and '{}' are stacked but quantized differently", checkpoint_.dir().string(),
           first.tensor, s.slice.tensor);
    if (s.slice.cols.begin % m.group_size != 0 || s.slice.cols.size() % m.group_size != 0)
      fail("cannot split quantized tensor '{}' by input columns [{}, {}): the split must fall on group boundaries "
           "(group size {}); use fewer ranks", s.slice.tensor, s.slice.cols.begin, s.slice.cols.end, m.group_size);
  }
  m.row_bytes = m.cols * m.bits / 8;
  return m;
}

// Bytes this rank holds of the matrix once loaded: codes plus a scale and a bias per group,
// each bf16 or fp32 as size_group_params keeps them (--quantize writes bf16); or the float rows.
size_t WeightLoader::held_bytes(const Matrix& m, const Source& first, bool quantize) const {
  const int64_t rows = m.rows, cols = m.cols;
  const size_t param_bytes =
      first.quantized && !keeps_bf16_params(*first.quantized->scales, *first.quantized->biases) ? 4 : 2;
  if (quantize)
    return static_cast<size_t>(rows * cols * quantize_bits_ / 8) + 2 * param_bytes * rows * (cols / kQuantizeGroup);
  if (m.format == WeightFormat::kAffine)
    return static_cast<size_t>(rows * m.row_bytes) + 2 * param_bytes * rows * (cols / m.group_size);
  return static_cast<size_t>(rows * cols) * (m.format == WeightFormat::kBF16 ? 2 : 4);
}

Matrix WeightLoader::matrix(Split split, const std::vector<SourceSlice>& parts, bool quantizable) {
  TS_CHECK(!parts.empty(), "matrix with no sources");
  std::vector<Source> sources;
  sources.reserve(parts.size());
  for (const SourceSlice& part : parts) sources.push_back(resolve(part));
  Matrix m = layout(sources);
  const bool quantize =
      quantize_bits_ > 0 && quantizable && m.format != WeightFormat::kAffine && m.cols % kQuantizeGroup == 0;
  const size_t held = held_bytes(m, sources[0], quantize);
  for (const Source& s : sources) record(split, s.slice, held / sources.size());
  if (dry_run_) {
    m.rows = 0;  // an empty matrix: nothing was read
    return m;
  }
  if (!quantize && sources.size() == 1 && view_in_place(sources[0].slice, sources[0].plain, sources[0].quantized, m)) {
    bytes_loaded_ += m.bytes();
    return m;
  }
  if (m.format == WeightFormat::kAffine) {
    m.data = AlignedBuffer(static_cast<size_t>(m.rows * m.row_bytes));
    const QuantizedTensor& q = *sources[0].quantized;
    size_group_params(*q.scales, *q.biases, m.rows * (m.cols / m.group_size), &m);
  } else {
    m.data = AlignedBuffer(static_cast<size_t>(m.rows * m.cols) * (m.format == WeightFormat::kBF16 ? 2 : 4));
  }
  int64_t out_row = 0;
  for (const Source& s : sources) {
    out_row = copy_rows(s.slice, s.plain, s.quantized, m, out_row);
    release_source_pages(s.slice, s.stored());
  }
  if (quantize) m = quantize_affine(m, quantize_bits_, kQuantizeGroup, quantize_pool_);
  bytes_loaded_ += m.bytes();
  return m;
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
  TS_CHECK(part.role != TensorRole::kUnspecified, "tensor {} loaded without a role", part.tensor);
  plan_.push_back({part.tensor, part.role, split, part.rows, part.cols, 1, bytes, params});
}

std::vector<float> WeightLoader::vector(TensorRole role, const std::string& tensor, const std::vector<int64_t>& shape,
                                        const std::vector<Range>& elements, bool add_one) {
  const TensorInfo& t = expect(tensor, shape);
  std::vector<Range> ranges = elements;
  if (ranges.empty()) ranges = {{0, t.numel()}};
  int64_t n = 0;
  for (const Range& r : ranges) n += r.size();
  TS_CHECK(role != TensorRole::kUnspecified, "tensor {} loaded without a role", tensor);
  plan_.push_back({tensor, role, elements.empty() ? Split::kReplicated : Split::kColumn, ranges, {0, 1}, 1,
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

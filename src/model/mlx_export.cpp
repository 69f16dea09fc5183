#include "model/mlx_export.h"

#include "model/tensor_names.h"
#include "tensor/affine_quantize.h"
#include "util/error.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tessera {

namespace {

constexpr size_t kBlockBytes = size_t{64} << 20;  // input bytes converted at a time


int64_t row_count(const TensorInfo& t) { return t.shape.empty() ? 1 : t.numel() / std::max<int64_t>(t.shape.back(), 1); }
int64_t col_count(const TensorInfo& t) { return t.shape.empty() ? 1 : t.shape.back(); }
ExportSource whole(const TensorInfo& t) { return {&t, 0, row_count(t)}; }

// A Linear/Embedding weight: mlx-lm quantizes every one (conv1d is a convolution, norms are 1-D).
bool is_quantizable(const std::string& name, const std::vector<int64_t>& shape) {
  return name.ends_with(".weight") && shape.size() >= 2 && !name.ends_with("conv1d.weight");
}

// "layers.3.mlp.experts.5.gate_proj.weight" → expert 5, projection "gate_proj" (false otherwise).
bool parse_per_expert(const std::string& local, std::string* layer_mlp, int64_t* expert, std::string* proj) {
  const std::string marker = ".mlp.experts.";
  const size_t at = local.find(marker);
  if (at == std::string::npos || !local.ends_with(".weight")) return false;
  const size_t begin = at + marker.size();
  const size_t dot = local.find('.', begin);
  if (dot == std::string::npos || dot == begin) return false;
  const std::string index = local.substr(begin, dot - begin);
  if (!std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  *layer_mlp = local.substr(0, at + 5);  // "layers.3.mlp."
  *expert = std::stoll(index);
  *proj = local.substr(dot + 1, local.size() - dot - 1 - 7);  // drop ".weight"
  return true;
}

class Planner {
 public:
  Planner(const Checkpoint& ckpt, const ModelConfig& config, int bits, int group)
      : ckpt_(ckpt), config_(config), bits_(bits), group_(group), in_(detect_tensor_names(ckpt, config)),
        out_(mlx_tensor_names(config)) {
    plan_.bits = bits;
    plan_.group_size = group;
  }

  MlxExportPlan run() {
    refuse_quantized_input();
    for (const auto& [name, info] : ckpt_.all()) place(name, *info);
    std::sort(plan_.tensors.begin(), plan_.tensors.end(),
              [](const ExportTensor& a, const ExportTensor& b) { return a.name < b.name; });
    return std::move(plan_);
  }

 private:
  std::string where() const { return "checkpoint " + ckpt_.dir().string(); }

  void refuse_quantized_input() const {
    if (config_.quantization)
      fail("{}: config.json has a 'quantization' block: the checkpoint is already quantized (tessera quantize "
           "needs float weights: bf16, f16 or f32)", where());
    for (const auto& [name, info] : ckpt_.all())
      if (name.ends_with(".scales") || info->dtype == DType::kU32)
        fail("{}: tensor '{}' ({}) is quantized already: tessera quantize needs float weights", where(), name,
             dtype_name(info->dtype));
  }

  void place(const std::string& name, const TensorInfo& info) {
    if (is_skipped_tensor(name)) {
      ++plan_.skipped_tensors;
      return;
    }
    if (!in_.lm_head.empty() && name == in_.lm_head) return add(out_.lm_head, info.shape, {whole(info)}, info.dtype);
    if (config_.tie_word_embeddings && (name == "lm_head.weight" || name == "language_model.lm_head.weight")) {
      ++plan_.skipped_tensors;  // the head is the embedding; a stored copy is redundant
      return;
    }
    if (!name.starts_with(in_.model_prefix))
      fail("{}: tensor '{}' has no place in the MLX layout (it is neither under '{}' nor the lm_head)", where(), name,
           in_.model_prefix);
    const std::string local = name.substr(in_.model_prefix.size());
    const std::string out = out_.model_prefix + local;
    if (local.ends_with(".mlp.experts.gate_up_proj")) return split_gate_up(local, info);
    if (local.ends_with(".mlp.experts.down_proj"))
      return add(out_.model_prefix + local.substr(0, local.size() - 17) + "switch_mlp.down_proj.weight", info.shape,
                 {whole(info)}, info.dtype);
    std::string layer_mlp, proj;
    int64_t expert = 0;
    if (parse_per_expert(local, &layer_mlp, &expert, &proj)) return stack_experts(layer_mlp, expert, proj, info);
    if (local.ends_with("linear_attn.conv1d.weight") && info.shape.size() == 3 && info.shape[1] == 1 &&
        info.shape[2] != 1)  // HF [C, 1, K] → MLX [C, K, 1]: the same bytes
      return add(out, {info.shape[0], info.shape[2], 1}, {whole(info)}, info.dtype);
    if (config_.zero_centred_norms() && !in_.mlx_sanitized && is_zero_centred_norm(local)) {
      ExportTensor t{out, info.shape, ExportKind::kAddOne, info.dtype == DType::kF32 ? DType::kF32 : DType::kBF16,
                     0, 0, {whole(info)}};
      if (!is_float_dtype(info.dtype)) fail("{}: norm weight '{}' is {}, not a float", where(), name, dtype_name(info.dtype));
      plan_.tensors.push_back(std::move(t));
      return;
    }
    add(out, info.shape, {whole(info)}, info.dtype);
  }

  // HF's fused [E, 2I, H]: rows [e*2I, e*2I + I) of each expert are its gate, the next I its up.
  void split_gate_up(const std::string& local, const TensorInfo& info) {
    if (info.shape.size() != 3 || info.shape[1] % 2 != 0)
      fail("{}: '{}' has shape {}, expected [experts, 2 * moe_intermediate_size, hidden]", where(), info.name,
           info.shape_string());
    const int64_t E = info.shape[0], I = info.shape[1] / 2;
    const std::string base = out_.model_prefix + local.substr(0, local.size() - 20) + "switch_mlp.";
    std::vector<ExportSource> gate, up;
    for (int64_t e = 0; e < E; ++e) {
      gate.push_back({&info, e * 2 * I, I});
      up.push_back({&info, e * 2 * I + I, I});
    }
    add(base + "gate_proj.weight", {E, I, info.shape[2]}, gate, info.dtype);
    add(base + "up_proj.weight", {E, I, info.shape[2]}, up, info.dtype);
  }

  // experts.{e}.{proj}.weight for e = 0..E-1 → one stack switch_mlp.{proj}.weight [E, out, in],
  // planned when expert 0 is met.
  void stack_experts(const std::string& layer_mlp, int64_t expert, const std::string& proj, const TensorInfo& info) {
    const int64_t E = config_.moe.num_experts;
    if (expert >= E)
      fail("{}: tensor '{}' names expert {} but config.json has num_experts {}", where(), info.name, expert, E);
    if (expert != 0) return;
    std::vector<ExportSource> sources;
    for (int64_t e = 0; e < E; ++e) {
      const std::string name = fmt::format("{}{}experts.{}.{}.weight", in_.model_prefix, layer_mlp, e, proj);
      const TensorInfo* t = ckpt_.find(name);
      if (!t) fail("{}: missing tensor '{}' (num_experts is {})", where(), name, E);
      if (t->shape != info.shape || t->dtype != info.dtype)
        fail("{}: '{}' is {} {} but expert 0 is {} {}", where(), name, dtype_name(t->dtype), t->shape_string(),
             dtype_name(info.dtype), info.shape_string());
      sources.push_back(whole(*t));
    }
    std::vector<int64_t> shape{E};
    shape.insert(shape.end(), info.shape.begin(), info.shape.end());
    add(out_.model_prefix + layer_mlp + "switch_mlp." + proj + ".weight", shape, sources, info.dtype);
  }

  // A tensor kept as stored, or quantized when it is a Linear/Embedding weight.
  void add(const std::string& name, const std::vector<int64_t>& shape, std::vector<ExportSource> sources, DType dtype) {
    ExportTensor t{name, shape, ExportKind::kCopy, dtype, 0, 0, std::move(sources)};
    if (is_quantizable(name, shape)) {
      const std::string& source = t.sources.front().tensor->name;
      const int64_t in = shape.back();
      const auto ov = mlx_quant_override(t.module(), in, group_);
      if (!ov || ov->quantized) {
        t.kind = ExportKind::kQuantize;
        t.bits = ov ? ov->bits : bits_;
        t.group_size = ov ? ov->group_size : group_;
        if (!is_float_dtype(dtype))
          fail("{}: tensor '{}' is {}: only float weights (F32, BF16, F16) can be quantized", where(), source,
               dtype_name(dtype));
        if (in % t.group_size != 0) {
          std::vector<int> fits;
          for (int g : {32, 64, 128})
            if (in % g == 0) fits.push_back(g);
          fail("{}: tensor '{}' {} has input dimension {}, which group size {} does not divide ({})", where(), source,
               t.sources.front().tensor->shape_string(), in, t.group_size,
               fits.empty() ? std::string("no supported group size does")
                            : fmt::format("--group {} would", fmt::join(fits, " or ")));
        }
      }
    }
    plan_.tensors.push_back(std::move(t));
  }

  const Checkpoint& ckpt_;
  const ModelConfig& config_;
  int bits_, group_;
  TensorNames in_, out_;
  MlxExportPlan plan_;
};

// Rows of a source block as a float Matrix the quantizer reads: a view of the mapping for F32 and
// BF16, widened to F32 for F16.
Matrix float_rows(const TensorInfo& t, int64_t row_begin, int64_t rows) {
  Matrix m;
  m.rows = rows;
  m.cols = col_count(t);
  const size_t esize = dtype_size(t.dtype);
  const uint8_t* start = t.data + static_cast<size_t>(row_begin * m.cols) * esize;
  if (t.dtype == DType::kF32 || t.dtype == DType::kBF16) {
    m.format = t.dtype == DType::kF32 ? WeightFormat::kF32 : WeightFormat::kBF16;
    m.view = start;
    return m;
  }
  m.format = WeightFormat::kF32;
  m.data = AlignedBuffer(static_cast<size_t>(rows * m.cols) * sizeof(float));
  auto* out = reinterpret_cast<float*>(m.data.data());
  const int64_t first = row_begin * m.cols;
  for (int64_t i = 0; i < rows * m.cols; ++i) out[i] = t.element_f32(first + i);
  return m;
}

// Calls fn(source, row_begin, rows, output_row) for blocks of at most kBlockBytes of input.
template <typename Fn>
void for_each_block(const ExportTensor& t, Fn&& fn) {
  int64_t out_row = 0;
  for (const ExportSource& s : t.sources) {
    const size_t row_bytes = static_cast<size_t>(col_count(*s.tensor)) * dtype_size(s.tensor->dtype);
    const int64_t step = std::max<int64_t>(1, static_cast<int64_t>(kBlockBytes / std::max<size_t>(row_bytes, 1)));
    for (int64_t r = 0; r < s.rows; r += step) {
      const int64_t n = std::min(step, s.rows - r);
      fn(*s.tensor, s.row_begin + r, n, out_row);
      out_row += n;
    }
  }
}

void write_quantized(const ExportTensor& t, CheckpointWriter& writer, ThreadPool& pool) {
  const std::string module = t.module();
  const int64_t cols = t.shape.back(), groups = cols / t.group_size;
  const size_t code_row_bytes = static_cast<size_t>(cols * t.bits / 8);
  const size_t param_row_bytes = static_cast<size_t>(groups) * sizeof(uint16_t);
  for_each_block(t, [&](const TensorInfo& src, int64_t row_begin, int64_t rows, int64_t out_row) {
    const Matrix q = quantize_affine(float_rows(src, row_begin, rows), t.bits, t.group_size, &pool);
    const auto at = static_cast<size_t>(out_row);
    writer.write(module + ".weight", at * code_row_bytes, q.data.data(), q.data.size());
    writer.write(module + ".scales", at * param_row_bytes, q.scales.bf16.data(), q.scales.bf16.size() * sizeof(uint16_t));
    writer.write(module + ".biases", at * param_row_bytes, q.biases.bf16.data(), q.biases.bf16.size() * sizeof(uint16_t));
  });
}

void write_plain(const ExportTensor& t, CheckpointWriter& writer) {
  const size_t esize = dtype_size(t.dtype);
  std::vector<uint8_t> shifted;
  for_each_block(t, [&](const TensorInfo& src, int64_t row_begin, int64_t rows, int64_t out_row) {
    const int64_t cols = col_count(src);
    const size_t offset = static_cast<size_t>(out_row * cols) * esize, n = static_cast<size_t>(rows * cols);
    if (t.kind == ExportKind::kCopy) {
      writer.write(t.name, offset, src.data + static_cast<size_t>(row_begin * cols) * esize, n * esize);
      return;
    }
    // +1 of a zero-centred norm, in fp32, rounded once to the dtype written (as mlx-lm's sanitize).
    shifted.resize(n * esize);
    for (size_t i = 0; i < n; ++i) {
      const float v = src.element_f32(row_begin * cols + static_cast<int64_t>(i)) + 1.0f;
      if (t.dtype == DType::kF32) std::memcpy(shifted.data() + i * 4, &v, 4);
      else {
        const uint16_t b = f32_to_bf16(v);
        std::memcpy(shifted.data() + i * 2, &b, 2);
      }
    }
    writer.write(t.name, offset, shifted.data(), shifted.size());
  });
}

}  // namespace

std::string ExportTensor::module() const { return name.ends_with(".weight") ? name.substr(0, name.size() - 7) : name; }

MlxExportPlan plan_mlx_export(const Checkpoint& checkpoint, const ModelConfig& config, int bits, int group_size) {
  return Planner(checkpoint, config, bits, group_size).run();
}

nlohmann::ordered_json mlx_quantization_block(const MlxExportPlan& plan) {
  nlohmann::ordered_json block = {{"group_size", plan.group_size}, {"bits", plan.bits}, {"mode", "affine"}};
  for (const ExportTensor& t : plan.tensors)
    if (t.kind == ExportKind::kQuantize && mlx_quant_override(t.module(), t.shape.back(), plan.group_size))
      block[t.module()] = {{"group_size", t.group_size}, {"bits", t.bits}};
  return block;
}

std::vector<TensorSpec> export_tensor_specs(const MlxExportPlan& plan) {
  std::vector<TensorSpec> specs;
  for (const ExportTensor& t : plan.tensors) {
    if (t.kind != ExportKind::kQuantize) {
      specs.push_back({t.name, t.dtype, t.shape});
      continue;
    }
    std::vector<int64_t> codes = t.shape, params = t.shape;
    codes.back() = t.shape.back() * t.bits / 32;
    params.back() = t.shape.back() / t.group_size;
    specs.push_back({t.module() + ".weight", DType::kU32, codes});
    specs.push_back({t.module() + ".scales", DType::kBF16, params});
    specs.push_back({t.module() + ".biases", DType::kBF16, params});
  }
  return specs;
}

void write_mlx_export(const MlxExportPlan& plan, CheckpointWriter& writer, ThreadPool& pool) {
  for (const ExportTensor& t : plan.tensors) {
    if (t.kind == ExportKind::kQuantize) write_quantized(t, writer, pool);
    else write_plain(t, writer);
  }
}

}  // namespace tessera

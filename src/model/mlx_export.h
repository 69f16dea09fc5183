// Turning a float checkpoint (any layout the loader reads) into an mlx-community MLX affine
// checkpoint, as mlx-lm's `convert -q` would write it (spec §2.6, §5): mlx-lm's names
// (tensor_names.h), expert stacks as switch_mlp.{gate,up,down}_proj, conv1d as [C, K, 1], the +1 of
// zero-centred norms baked in, vision/MTP tensors dropped, every Linear/Embedding weight quantized
// with MLX's rule (tensor/affine_quantize.h) into `.weight` (uint32 codes), `.scales`, `.biases`
// (bf16), routers and shared-expert gates at 8 bits. Other tensors keep their stored dtype.
//
// The plan is computed from the checkpoint's header alone, so every refusal (already quantized, a
// dimension the group does not divide, a tensor with no place in the layout) happens before any
// byte is written; the tensors are then streamed block by block (one expert at a time).
#pragma once

#include "io/model_config.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "util/thread_pool.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tessera {

// Rows [row_begin, row_begin + rows) of `tensor` viewed as a matrix [numel / last_dim, last_dim].
struct ExportSource {
  const TensorInfo* tensor = nullptr;
  int64_t row_begin = 0;
  int64_t rows = 0;
};

enum class ExportKind { kCopy, kAddOne, kQuantize };

// One tensor of the output: its sources concatenated along rows, then copied, shifted by +1 (norms)
// or quantized. For kQuantize the file holds <module>.weight, .scales and .biases.
struct ExportTensor {
  std::string name;            // output name; for kQuantize the "<module>.weight" name
  std::vector<int64_t> shape;  // float shape [..., out, in]
  ExportKind kind = ExportKind::kCopy;
  DType dtype = DType::kBF16;  // kCopy / kAddOne: dtype written
  int bits = 0;                // kQuantize
  int group_size = 0;
  std::vector<ExportSource> sources;

  std::string module() const;  // name without ".weight"
};

struct MlxExportPlan {
  std::vector<ExportTensor> tensors;
  int bits = 0;                 // the global settings; some modules have their own (overrides)
  int group_size = 0;
  int64_t skipped_tensors = 0;  // vision tower / MTP tensors left out
};

// Throws tessera::Error naming the problem: a checkpoint that is already quantized, a quantized
// tensor whose input dimension `group_size` does not divide, a non-float weight, a tensor with no
// place in the MLX layout, a missing expert.
MlxExportPlan plan_mlx_export(const Checkpoint& checkpoint, const ModelConfig& config, int bits, int group_size);

// config.json's "quantization" block (mlx-lm writes it again as "quantization_config"): global
// group_size, bits, mode "affine", then one entry per module quantized with its own settings.
nlohmann::ordered_json mlx_quantization_block(const MlxExportPlan& plan);

// The safetensors entries the plan writes (codes U32, scales and biases BF16).
std::vector<TensorSpec> export_tensor_specs(const MlxExportPlan& plan);

// Computes and writes every tensor of the plan; quantization is spread over `pool`.
void write_mlx_export(const MlxExportPlan& plan, CheckpointWriter& writer, ThreadPool& pool);

}  // namespace tessera

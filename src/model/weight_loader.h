// Loads this rank's slice of checkpoint tensors into in-memory matrices and vectors.
// A matrix may be assembled from several sources stacked by rows (gate|up of per-expert
// checkpoints, the un-grouped sections of Qwen3-Next's in_proj_qkvz); each source gives the row
// ranges and the column range this rank owns, so no rank copies rows it does not hold.
// In dry-run mode nothing is read: every tensor is still checked for presence, dtype and shape
// (so a bad checkpoint or an impossible split fails before any weight is read), and the slices
// are recorded for `tessera shard-plan`.
#pragma once

#include "io/model_config.h"
#include "io/quantized_tensor.h"
#include "io/safetensors.h"
#include "parallel/shard_plan.h"
#include "tensor/matrix.h"
#include "util/thread_pool.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tessera {

struct SourceSlice {
  std::string tensor;             // checkpoint name; for quantized weights the ".weight" name
  TensorRole role = TensorRole::kUnspecified;  // recorded in the plan; must be set
  std::vector<int64_t> shape;     // expected full logical shape, e.g. {E, 2I, H} or {rows, cols}
  int64_t expert = -1;            // index into the leading expert dimension of a 3-D stack
  std::vector<Range> rows;        // rows of the trailing [rows, cols] matrix; empty = all
  Range cols{0, -1};              // end < 0 = all columns
};

class WeightLoader {
 public:
  WeightLoader(const Checkpoint& checkpoint, const ModelConfig& config, bool dry_run);

  // `quantizable` false keeps a float weight in its format under --quantize (routers and the
  // shared-expert gate stay high precision, as mlx-lm keeps them at 8 bits).
  Matrix matrix(Split split, const std::vector<SourceSlice>& parts, bool quantizable = true);
  Matrix matrix(Split split, const SourceSlice& part, bool quantizable = true) {
    return matrix(split, std::vector<SourceSlice>{part}, quantizable);
  }
  // Quantize float weights to MLX affine `bits` (group 64) while loading; 0 = keep as stored.
  // `pool` (optional) spreads the quantization of each matrix's rows over the threads.
  void set_quantize_bits(int bits, ThreadPool* pool = nullptr) {
    quantize_bits_ = bits;
    quantize_pool_ = pool;
  }
  // A 1-D (or [C,1,K]-style) float tensor as fp32, optionally sliced by element ranges;
  // `add_one` folds the +1 of zero-centred norms.
  std::vector<float> vector(TensorRole role, const std::string& tensor, const std::vector<int64_t>& shape,
                            const std::vector<Range>& elements = {}, bool add_one = false);

  bool has(const std::string& tensor) const { return checkpoint_.find(tensor) != nullptr; }
  bool dry_run() const { return dry_run_; }
  const std::vector<PlanRecord>& plan() const { return plan_; }
  size_t bytes_loaded() const { return bytes_loaded_; }
  // Names in the checkpoint that no load touched.
  std::vector<std::string> unused_tensors() const;

 private:
  // One SourceSlice found in the checkpoint: float (`plain`) or MLX-quantized (`quantized`).
  struct Source {
    SourceSlice slice;                         // normalised: explicit rows (adjacent merged) and columns
    const TensorInfo* plain = nullptr;
    std::optional<QuantizedTensor> quantized;
    const TensorInfo& stored() const { return quantized ? *quantized->weight : *plain; }
  };
  const TensorInfo& expect(const std::string& tensor, const std::vector<int64_t>& shape);
  Source resolve(const SourceSlice& part);
  Matrix layout(const std::vector<Source>& sources) const;
  size_t held_bytes(const Matrix& m, const Source& first, bool quantize) const;
  void record(Split split, const SourceSlice& part, size_t bytes);

  const Checkpoint& checkpoint_;
  const ModelConfig& config_;
  bool dry_run_;
  int quantize_bits_ = 0;
  ThreadPool* quantize_pool_ = nullptr;
  std::vector<PlanRecord> plan_;
  std::set<std::string> used_;
  size_t bytes_loaded_ = 0;
};

}  // namespace tessera

// A loaded model on one rank: config, this rank's weights, and the forward pass.
// Every rank of a tensor-parallel group calls forward() with the same tokens in lock step
// (engine/ arranges that); logits arrive on rank 0 only.
#pragma once

#include "io/model_config.h"
#include "io/safetensors.h"
#include "kernels/rope.h"
#include "model/decode_state.h"
#include "model/decoder_layer.h"
#include "parallel/communicator.h"
#include "parallel/shard_plan.h"
#include "util/thread_pool.h"

#include <filesystem>
#include <memory>
#include <span>
#include <vector>

namespace tessera {

struct LoadOptions {
  int quantize_bits = 0;  // 0: keep weights as stored; 8, 6, 4: quantize float weights on load
};

class Model {
 public:
  // Checks every tensor (presence, dtype, shape, shardability) before reading any weight,
  // then loads this rank's slices. Throws tessera::Error on a bad checkpoint.
  static std::unique_ptr<Model> load(const std::filesystem::path& dir, Communicator& comm, ThreadPool& pool,
                                     const LoadOptions& options = {});

  // The shard plan of every rank for world size `world`, computed without reading weights.
  static std::vector<std::vector<PlanRecord>> plan_all_ranks(const std::filesystem::path& dir, int world,
                                                             const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const ShardPlan& shard_plan() const { return plan_; }
  size_t weight_bytes() const { return weight_bytes_; }
  // The kernel set the forward pass runs on (kernels/kernel_set.h): "avx512", "avx2" or "scalar".
  static const char* kernel_set_name();
  Communicator& comm() { return comm_; }
  ThreadPool& pool() { return pool_; }

  SequenceState new_sequence() const;

  // Runs `tokens` at positions state.position.. and advances the state. On rank 0, `logits`
  // receives [n_rows, vocab_size] where n_rows = tokens.size() if all_positions, else 1.
  void forward(std::span<const int32_t> tokens, SequenceState& state, bool all_positions, std::vector<float>* logits);

  // Several sequences in one pass (batched decode): sequence i takes the next counts[i] tokens
  // of `tokens`. Every weight is read once for all of them. On rank 0, `logits` receives one row
  // per token if all_positions, else one row per sequence (its last token), in order.
  void forward(std::span<const int32_t> tokens, std::span<SequenceState* const> states,
               std::span<const int64_t> counts, bool all_positions, std::vector<float>* logits);

 private:
  Model(ModelConfig config, Communicator& comm, ThreadPool& pool, ShardPlan plan);

  ModelConfig config_;
  std::unique_ptr<Checkpoint> checkpoint_;  // mapped; in-place weights point into it
  Communicator& comm_;
  ThreadPool& pool_;
  ShardPlan plan_;
  Rope rope_;
  Matrix embed_;    // [V, H], replicated
  std::vector<float> final_norm_;
  Matrix lm_head_;  // [V_r, H], this rank's vocabulary rows
  std::vector<DecoderLayer> layers_;
  size_t weight_bytes_ = 0;
};

}  // namespace tessera

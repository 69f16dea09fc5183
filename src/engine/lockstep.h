// Lock-step execution across ranks (design ARCHITECTURE.md "The path of one request"):
// rank 0 owns all I/O and, for every step, broadcasts a small command (which sequence slot,
// which tokens); every rank then runs the same forward pass on its shard. Worker ranks sit in
// run_worker() until rank 0 calls shutdown(). With one process the broadcasts are no-ops.
#pragma once

#include "engine/memory_usage.h"
#include "model/model.h"

#include <map>
#include <span>
#include <vector>

namespace tessera {

class LockstepEngine {
 public:
  explicit LockstepEngine(Model& model) : model_(model) {}
  ~LockstepEngine();

  Model& model() { return model_; }
  bool is_leader() const { return model_.comm().rank() == 0; }

  // Rank 0 only. Runs tokens through sequence `slot` (created on first use) on every rank.
  void forward(int slot, std::span<const int32_t> tokens, bool all_positions, std::vector<float>* logits);
  // Rank 0 only. Batched decode: one token for each of several distinct slots in one pass (each
  // weight read once for all); logits receives one row per slot, in order.
  void forward_batch(std::span<const int32_t> slots, std::span<const int32_t> tokens, std::vector<float>* logits);
  // Rank 0 only. Forgets a sequence's state on every rank.
  void release(int slot);
  // Rank 0 only. Prefix-cache snapshots (engine/prefix_cache.h): every rank copies its shard of
  // slot's state under `id` (returns rank 0's bytes; shards are equal-sized up to head
  // rounding), copies snapshot `id` into slot (replacing its state), or frees snapshot `id`.
  int64_t snapshot(int slot, int64_t id);
  void restore(int slot, int64_t id);
  void drop_snapshot(int64_t id);
  int64_t snapshot_bytes() const { return snapshot_bytes_; }  // this rank's
  int64_t sequence_bytes(int slot) const;                      // this rank's shard of slot's state
  int64_t position(int slot) const;
  // Rank 0 only. Every rank's memory use, in rank order (a collective: workers take part
  // from run_worker(), so /metrics and /bench can report all ranks while serving).
  std::vector<MemoryUsage> gather_memory();
  // Rank 0 only. Tells the workers to leave run_worker(); idempotent.
  void shutdown();

  // Ranks > 0: serve commands until shutdown.
  void run_worker();

 private:
  enum class Op : int32_t { kForward = 1, kRelease = 2, kStop = 3, kMemory = 4, kForwardBatch = 5,
                          kSnapshot = 6, kRestore = 7, kDropSnapshot = 8 };
  struct Header {
    Op op;
    int32_t slot;
    int32_t n_tokens;
    int32_t all_positions;
    int64_t snapshot;  // kSnapshot, kRestore, kDropSnapshot: the snapshot's id
  };
  // kForwardBatch: `slots` holds one slot per token.
  // Broadcasts the header (when there are workers) and runs it here.
  void command(Header header);
  void execute(const Header& header, std::span<const int32_t> tokens, std::span<const int32_t> slots,
               std::vector<float>* logits);
  SequenceState& sequence(int slot);
  std::vector<MemoryUsage> all_gather_memory();

  Model& model_;
  std::map<int, SequenceState> sequences_;
  std::map<int64_t, SequenceState> snapshots_;
  int64_t snapshot_bytes_ = 0;
  bool stopped_ = false;
};

}  // namespace tessera

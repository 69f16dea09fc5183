// The request scheduler on rank 0. One compute thread (the one that initialised MPI, which
// requires it: MPI_THREAD_FUNNELED) calls run(); it alone calls LockstepEngine, so every
// forward() stays in lock step with the worker ranks. Any thread may submit().
//
// Concurrency: up to `max_active` sequences hold an engine slot each (their own KV, conv and
// recurrent state). run() visits them round-robin, one step each per round: a prefill chunk of
// at most `prefill_chunk` tokens, or one decode token. So a long prompt delays the others by a
// chunk, never by its whole prefill, and every active client sees tokens at the same pace. The
// decode tokens of a round are computed together in one batched forward pass
// (LockstepEngine::forward_batch): decode is bound by reading the weights, and the batch reads
// them once, so N concurrent streams cost little more than one.
// Requests beyond max_active wait in a FIFO queue. A slot is released the moment its sequence
// ends: EOS, a stop string, max_tokens, or the consumer's cancel() (a disconnected client).
//
// Constrained sequences (SequenceRequest::constraint) have their logits row masked before the
// Sampler sees it; the other ranks are unaffected, since only rank 0 samples.
//
// Memory: with a state budget, a sequence is admitted only when its worst-case state
// (prompt + max_tokens, see state_budget.h) fits beside the admitted ones; otherwise it waits
// at the head of the queue (first come, first served) until enough sequences end. With
// `max_queued`, submit() refuses (QueueFull) once that many requests are waiting.
//
// Prefix cache (prefix_cache.h): prompts are prefilled in chunks that end at multiples of
// `prefill_chunk` (a multiple of 64) and at the prompt's length rounded down to 64, the same
// with and without the cache. Where a chunk ends on a multiple of 64 the sequence's state is
// snapshotted on every rank; a new prompt starts from the longest cached prefix (leaving at
// least one token to compute). Since every chunk still starts at a multiple of 64, the chunked
// delta rule and the row-independent matmuls compute the same numbers either way: results are
// bit-identical with and without the cache.
//
// Text: each sequence detokenizes its own tokens (StreamingDecoder, special tokens skipped) and
// matches its stop strings, so the events carry final text and a stop string split across
// tokens is still found. Without a tokenizer (`tessera generate --tokens` on a checkpoint that
// has none) the events carry token ids only, and stop strings are refused.
//
// Two ways to drive it: the server calls run() on its compute thread and stop() at shutdown;
// `tessera generate` submits its one request and calls drain(), which returns once nothing is
// left, so the command line and the server share one generation path.
#pragma once

#include "engine/decoding_constraint.h"
#include "engine/lockstep.h"
#include "engine/prefix_cache.h"
#include "engine/sampler.h"
#include "engine/sequence_channel.h"
#include "engine/state_budget.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tessera {

struct SequenceRequest {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 16;
  SamplingParams sampling;
  std::vector<std::string> stop_strings;
  bool ignore_eos = false;
  int top_logprobs = -1;  // -1: no logprobs; 0: the chosen token's; k: and the k most likely
  // Structured output: masks each step's logits before sampling and ends the sequence (kStop)
  // once the output is complete. Used on the compute thread only.
  std::shared_ptr<DecodingConstraint> constraint;
  bool use_prefix_cache = true;  // false: neither restores nor snapshots (exo's opt-out)
};

struct SchedulerOptions {
  int max_active = 16;
  int64_t prefill_chunk = 512;      // rounded down to a multiple of 64 (at least 64)
  int64_t prefix_cache_bytes = 0;   // snapshot budget per rank; 0: no prefix cache
  std::set<int32_t> stop_ids;  // EOS ids (see stop_ids.h); never part of the output
  int64_t allowed_vocab = 0;   // 0: the model's vocab_size
  // Bytes of sequence state all admitted sequences may hold on a rank; 0: no limit.
  int64_t state_budget_bytes = 0;
  SequenceStateSize state_size;
  int64_t max_queued = 0;      // requests waiting for a slot or for budget; 0: no limit
};

// submit() when `max_queued` requests are already waiting: the server is overloaded (503).
class QueueFull : public Error {
 public:
  using Error::Error;
};

// Timing hooks for metrics, called on the compute thread.
class SchedulerObserver {
 public:
  virtual ~SchedulerObserver() = default;
  virtual void on_first_token(double seconds_since_submit) {}
  virtual void on_next_token(double seconds_since_previous) {}
  // A prompt looked up in the prefix cache: how many of its tokens were restored (0: a miss).
  virtual void on_prefix_cache_lookup(int64_t cached_tokens) {}
  // After a snapshot was added (and others perhaps evicted): rank 0's snapshot bytes, entries.
  virtual void on_prefix_cache_size(int64_t bytes, int64_t entries) {}
};

class Scheduler {
 public:
  // `tokenizer` may be null: no text, no stop strings (see above).
  Scheduler(LockstepEngine& engine, const Tokenizer* tokenizer, SchedulerOptions options,
            SchedulerObserver* observer = nullptr);
  ~Scheduler();

  // Any thread. The channel receives the sequence's events; cancel() it to stop early.
  // Throws QueueFull when the queue is full, Error when the request alone exceeds the state
  // budget (it could never be admitted).
  std::shared_ptr<SequenceChannel> submit(SequenceRequest request);

  // Any thread. Runs `task` on the compute thread between two steps (for collectives such as
  // gather_memory); the future completes when it has run, or holds an error if the scheduler
  // stopped first.
  std::future<void> run_on_compute_thread(std::function<void(LockstepEngine&)> task);

  // Compute thread: serves until stop(). Sequences still running or queued then get kAborted.
  void run();
  void stop();
  // Compute thread: serves until every submitted sequence has finished, then stops (as stop()).
  void drain();

  int64_t queued() const { return queued_.load(); }
  int64_t active() const { return active_count_.load(); }
  // State bytes the admitted sequences have reserved (0 without a budget).
  int64_t reserved_state_bytes() const { return reserved_bytes_.load(); }
  const SchedulerOptions& options() const { return options_; }

 private:
  struct Sequence;
  // run() and drain(): serve_loop, then close whatever is left (also after an exception).
  void serve(bool until_idle);
  void serve_loop(bool until_idle);
  void admit(std::unique_lock<std::mutex>& lock);
  int64_t state_bytes_needed(const SequenceRequest& request) const;
  void step(Sequence& seq);
  // Before the first prefill chunk: restore the longest cached prefix of the prompt.
  void restore_prefix(Sequence& seq);
  // After a prefill chunk ending on a block boundary: snapshot the state, unless cached.
  void snapshot_prefix(Sequence& seq);
  // One decode token for each of these sequences (all past their prompt) in one batched pass.
  void decode_together(const std::vector<Sequence*>& seqs);
  // Samples the next token from seq.logits, masked by the request's constraint if it has one.
  int32_t sample(Sequence& seq);
  void on_token(Sequence& seq, int32_t token);
  void finish(Sequence& seq, FinishReason reason, std::string error = {});
  void close_all(const std::string& why);

  LockstepEngine& engine_;
  const Tokenizer* tokenizer_;  // null: token ids only
  SchedulerOptions options_;
  SchedulerObserver* observer_;
  PrefixCache prefix_cache_;  // compute thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Sequence>> queue_;
  std::deque<std::packaged_task<void(LockstepEngine&)>> tasks_;
  bool stopping_ = false;
  bool stopped_ = false;

  std::list<std::unique_ptr<Sequence>> active_;  // compute thread only
  int next_slot_ = 1;
  std::atomic<int64_t> queued_{0};
  std::atomic<int64_t> active_count_{0};
  std::atomic<int64_t> reserved_bytes_{0};  // written on the compute thread only
};

}  // namespace tessera

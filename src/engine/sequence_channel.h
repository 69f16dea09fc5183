// The mailbox between the scheduler's compute thread (producer) and the HTTP thread that owns
// one request (consumer). The scheduler posts one event per sampled token and a final event;
// the consumer takes whatever has arrived, so a slow client never slows the compute thread.
// cancel() is the consumer's only way back: the scheduler checks it before every step of the
// sequence and frees the slot at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;                             // log-softmax of the raw logits
  std::vector<std::pair<int32_t, float>> top;    // most likely first (top_logprobs entries)
};

// kCancelled: the consumer cancelled; kAborted: the scheduler stopped (server shutdown) first.
enum class FinishReason { kNone, kStop, kLength, kCancelled, kError, kAborted };

struct SequenceStats {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;       // prompt tokens restored from the prefix cache, not computed
  double queue_seconds = 0;        // submitted → admitted into an engine slot
  double prompt_seconds = 0;       // prefill compute
  double decode_seconds = 0;       // end of prefill → finished (includes interleaved sequences)
  double first_token_seconds = 0;  // submitted → first token sampled
};

struct SequenceEvent {
  std::vector<int32_t> tokens;         // ids sampled since the last event (never an EOS id)
  std::string text;                    // newly final text: whole characters, stop strings cut
  std::vector<TokenLogprob> logprobs;  // one per token sampled for this event, if requested
  FinishReason finish = FinishReason::kNone;
  std::string error;                   // kError / kAborted: why
  SequenceStats stats;                 // on the final event
};

class SequenceChannel {
 public:
  void post(SequenceEvent event);
  // Moves every pending event into `out` (appending); waits up to `timeout` for the first.
  // Returns false on timeout with nothing new.
  bool take(std::vector<SequenceEvent>& out, std::chrono::milliseconds timeout);

  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<SequenceEvent> events_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace tessera

#include "engine/scheduler.h"

#include "engine/stop_strings.h"
#include "tokenizer/streaming_decoder.h"
#include "util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point from, Clock::time_point to) { return std::chrono::duration<double>(to - from).count(); }

TokenLogprob token_logprob(std::span<const float> logits, int64_t vocab, int32_t token, int top) {
  const std::vector<float> lp = Sampler::log_softmax(logits, vocab);
  TokenLogprob out;
  out.id = token;
  out.logprob = token >= 0 && static_cast<size_t>(token) < lp.size() ? lp[static_cast<size_t>(token)] : -INFINITY;
  const size_t k = std::min(static_cast<size_t>(std::max(top, 0)), lp.size());
  if (k > 0) {
    std::vector<int32_t> ids(lp.size());
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(k), ids.end(),
                      [&](int32_t a, int32_t b) { return lp[a] > lp[b] || (lp[a] == lp[b] && a < b); });
    for (size_t i = 0; i < k; ++i)  // a constraint's masked tokens (-inf) are not alternatives
      if (std::isfinite(lp[static_cast<size_t>(ids[i])])) out.top.emplace_back(ids[i], lp[static_cast<size_t>(ids[i])]);
  }
  return out;
}

// Where the prefill chunk starting at `pos` ends: the next multiple of `chunk`, cut at the
// prompt's last block boundary so the end-of-prompt state can be snapshotted. The schedule
// depends only on the prompt length, never on where a restored prefix left off, so chunk
// boundaries (and with them the numbers) are the same with and without the cache.
size_t prefill_end(size_t pos, size_t length, size_t chunk) {
  const size_t block = static_cast<size_t>(PrefixCache::kBlockTokens);
  size_t end = std::min(length, (pos / chunk + 1) * chunk);
  const size_t last_block = length / block * block;
  if (pos < last_block && last_block < end) end = last_block;
  return end;
}

}  // namespace

struct Scheduler::Sequence {
  Sequence(SequenceRequest r, const Tokenizer* tokenizer, int64_t vocab)
      : request(std::move(r)),
        channel(std::make_shared<SequenceChannel>()),
        sampler(request.sampling, vocab),
        stops(request.stop_strings),
        history(request.prompt),
        submitted(Clock::now()) {
    if (tokenizer) decoder.emplace(*tokenizer, /*skip_special=*/true);
  }
  // Text the decoder still holds back (an incomplete character), released at the end.
  std::string decoder_tail() { return decoder ? decoder->finish() : std::string(); }

  SequenceRequest request;
  std::shared_ptr<SequenceChannel> channel;
  Sampler sampler;
  std::optional<StreamingDecoder> decoder;  // none without a tokenizer
  StopStringMatcher stops;
  std::vector<int32_t> history;  // prompt + generated tokens (penalties look at both)
  std::vector<float> logits;
  int slot = 0;                  // 0: not admitted yet
  int64_t state_bytes = 0;       // reserved from the state budget while admitted
  size_t prefilled = 0;          // prompt tokens already run
  int64_t generated = 0;
  bool done = false;
  Clock::time_point submitted, admitted, prefill_done, last_token;
  SequenceStats stats;
};

Scheduler::Scheduler(LockstepEngine& engine, const Tokenizer* tokenizer, SchedulerOptions options,
                     SchedulerObserver* observer)
    : engine_(engine),
      tokenizer_(tokenizer),
      options_(std::move(options)),
      observer_(observer),
      prefix_cache_(options_.prefix_cache_bytes) {
  if (options_.allowed_vocab <= 0) options_.allowed_vocab = engine_.model().config().vocab_size;
  options_.max_active = std::max(options_.max_active, 1);
  // Chunks start at multiples of the delta rule's 64-token chunk, so a prompt resumed from a
  // snapshot is cut into the same chunks as one computed from the start.
  const int64_t block = PrefixCache::kBlockTokens;
  options_.prefill_chunk = std::max(options_.prefill_chunk / block * block, block);
}

Scheduler::~Scheduler() = default;

std::shared_ptr<SequenceChannel> Scheduler::submit(SequenceRequest request) {
  if (request.prompt.empty()) fail("the prompt is empty: give at least one token");
  if (!tokenizer_ && !request.stop_strings.empty()) fail("stop strings need the model's tokenizer");
  if (options_.state_budget_bytes > 0) {
    const int64_t fits = options_.state_size.tokens_within(options_.state_budget_bytes);
    const int64_t prompt = static_cast<int64_t>(request.prompt.size());
    if (prompt > fits || request.max_tokens > fits - prompt)
      fail("a sequence of {} prompt + {} completion tokens does not fit in the state budget of {} bytes ({} tokens)",
           prompt, request.max_tokens, options_.state_budget_bytes, fits);
  }
  auto seq = std::make_unique<Sequence>(std::move(request), tokenizer_, options_.allowed_vocab);
  std::shared_ptr<SequenceChannel> channel = seq->channel;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopped_ && !stopping_) {
      if (options_.max_queued > 0 && static_cast<int64_t>(queue_.size()) >= options_.max_queued)
        throw QueueFull(fmt::format("the server is overloaded: {} requests are already waiting (--max-queue {}); retry later",
                                    queue_.size(), options_.max_queued));
      queue_.push_back(std::move(seq));
      queued_.store(static_cast<int64_t>(queue_.size()));
      wake_.notify_one();
      return channel;
    }
  }
  SequenceEvent closed;
  closed.finish = FinishReason::kAborted;
  closed.error = "the server is shutting down";
  channel->post(std::move(closed));
  return channel;
}

std::future<void> Scheduler::run_on_compute_thread(std::function<void(LockstepEngine&)> task) {
  std::packaged_task<void(LockstepEngine&)> packaged(std::move(task));
  std::future<void> result = packaged.get_future();
  std::lock_guard<std::mutex> lock(mutex_);
  // A task dropped unrun (scheduler stopped) breaks its promise: the caller's get() throws.
  if (!stopped_ && !stopping_) {
    tasks_.push_back(std::move(packaged));
    wake_.notify_one();
  }
  return result;
}

void Scheduler::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
}

int64_t Scheduler::state_bytes_needed(const SequenceRequest& request) const {
  if (options_.state_budget_bytes <= 0) return 0;
  return options_.state_size.bytes_for(static_cast<int64_t>(request.prompt.size()) + request.max_tokens);
}

void Scheduler::admit(std::unique_lock<std::mutex>&) {
  // Clients that left while queued go first, so a long queue of abandoned requests neither
  // delays the rest nor keeps their HTTP threads waiting. They never touched the engine.
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->channel->cancelled()) {
      finish(**it, FinishReason::kCancelled);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  while (static_cast<int>(active_.size()) < options_.max_active && !queue_.empty()) {
    // First come, first served: a head that does not fit waits for sequences to end; nothing
    // smaller may overtake it, or a long request could starve behind a stream of short ones.
    const int64_t state_bytes = state_bytes_needed(queue_.front()->request);
    if (options_.state_budget_bytes > 0 && reserved_bytes_.load() + state_bytes > options_.state_budget_bytes) break;
    std::unique_ptr<Sequence> seq = std::move(queue_.front());
    queue_.pop_front();
    seq->state_bytes = state_bytes;
    reserved_bytes_.fetch_add(state_bytes);
    seq->slot = next_slot_++;
    seq->admitted = Clock::now();
    seq->stats.queue_seconds = seconds(seq->submitted, seq->admitted);
    active_.push_back(std::move(seq));
  }
  queued_.store(static_cast<int64_t>(queue_.size()));
  active_count_.store(static_cast<int64_t>(active_.size()));
}

void Scheduler::run() { serve(/*until_idle=*/false); }
void Scheduler::drain() { serve(/*until_idle=*/true); }

void Scheduler::serve(bool until_idle) {
  try {
    serve_loop(until_idle);
  } catch (...) {
    close_all("internal error in the scheduler");  // no HTTP thread may wait forever
    throw;
  }
  close_all(until_idle ? "the scheduler was stopped" : "the server is shutting down");
}

void Scheduler::serve_loop(bool until_idle) {
  for (;;) {
    std::deque<std::packaged_task<void(LockstepEngine&)>> tasks;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto idle = [&] { return queue_.empty() && tasks_.empty() && active_.empty(); };
      if (until_idle && idle()) break;
      wake_.wait(lock, [&] { return stopping_ || !idle(); });
      if (stopping_) break;
      tasks.swap(tasks_);
      admit(lock);
    }
    for (auto& task : tasks) task(engine_);  // exceptions land in the task's future
    // One round: every active sequence advances by one step. Prefill chunks run one sequence at
    // a time; the sequences that are decoding take their next token together in one batched
    // pass, so each weight is read once per round instead of once per sequence.
    std::vector<Sequence*> decoding;
    for (auto& seq : active_) {
      if (seq->done) continue;
      if (seq->prefilled < seq->request.prompt.size() || seq->channel->cancelled()) step(*seq);
      else decoding.push_back(seq.get());
    }
    decode_together(decoding);
    active_.remove_if([](const std::unique_ptr<Sequence>& seq) { return seq->done; });
    active_count_.store(static_cast<int64_t>(active_.size()));
  }
}

void Scheduler::close_all(const std::string& why) {
  for (auto& seq : active_)
    if (!seq->done) finish(*seq, FinishReason::kAborted, why);
  active_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& seq : queue_) finish(*seq, FinishReason::kAborted, why);
  queue_.clear();
  tasks_.clear();
  stopped_ = true;
  queued_.store(0);
  active_count_.store(0);
}

void Scheduler::step(Sequence& seq) {
  if (seq.channel->cancelled()) {
    finish(seq, FinishReason::kCancelled);
    return;
  }
  try {
    const std::vector<int32_t>& prompt = seq.request.prompt;
    if (seq.prefilled < prompt.size()) {
      const auto t0 = Clock::now();
      if (seq.prefilled == 0) restore_prefix(seq);
      const size_t end = prefill_end(seq.prefilled, prompt.size(), static_cast<size_t>(options_.prefill_chunk));
      engine_.forward(seq.slot, std::span<const int32_t>(prompt.data() + seq.prefilled, end - seq.prefilled), false,
                      &seq.logits);
      seq.prefilled = end;
      snapshot_prefix(seq);
      seq.prefill_done = Clock::now();
      seq.stats.prompt_seconds += seconds(t0, seq.prefill_done);
      if (seq.prefilled < prompt.size()) return;  // more chunks next round
      if (seq.request.max_tokens <= 0) {          // prompt only (timing a prefill)
        finish(seq, FinishReason::kLength);
        return;
      }
    } else {
      engine_.forward(seq.slot, std::span<const int32_t>(&seq.history.back(), 1), false, &seq.logits);
    }
    on_token(seq, sample(seq));
  } catch (const std::exception& e) {
    finish(seq, FinishReason::kError, e.what());
  }
}

void Scheduler::restore_prefix(Sequence& seq) {
  if (!prefix_cache_.enabled() || !seq.request.use_prefix_cache) return;
  const std::vector<int32_t>& prompt = seq.request.prompt;
  const PrefixCache::Hit hit = prefix_cache_.longest_prefix(prompt, static_cast<int64_t>(prompt.size()) - 1);
  if (hit.tokens > 0) {
    engine_.restore(seq.slot, hit.id);
    seq.prefilled = static_cast<size_t>(hit.tokens);
    seq.stats.cached_tokens = hit.tokens;
  }
  if (observer_) observer_->on_prefix_cache_lookup(hit.tokens);
}

void Scheduler::snapshot_prefix(Sequence& seq) {
  if (!prefix_cache_.enabled() || !seq.request.use_prefix_cache) return;
  if (seq.prefilled % static_cast<size_t>(PrefixCache::kBlockTokens) != 0) return;
  const std::span<const int32_t> prefix(seq.request.prompt.data(), seq.prefilled);
  if (prefix_cache_.contains(prefix)) return;
  // Evict first, and skip a snapshot larger than the whole budget, so the copy never pushes
  // memory past the budget.
  const int64_t expected = engine_.sequence_bytes(seq.slot);
  if (expected > prefix_cache_.budget_bytes()) return;
  for (int64_t dropped : prefix_cache_.make_room(expected)) engine_.drop_snapshot(dropped);
  const int64_t id = prefix_cache_.next_id();
  const int64_t bytes = engine_.snapshot(seq.slot, id);
  for (int64_t dropped : prefix_cache_.insert(prefix, id, bytes)) engine_.drop_snapshot(dropped);
  if (observer_) observer_->on_prefix_cache_size(prefix_cache_.bytes(), static_cast<int64_t>(prefix_cache_.size()));
}

void Scheduler::decode_together(const std::vector<Sequence*>& seqs) {
  if (seqs.size() <= 1) {
    for (Sequence* seq : seqs) step(*seq);
    return;
  }
  std::vector<int32_t> slots, tokens;
  for (const Sequence* seq : seqs) {
    slots.push_back(seq->slot);
    tokens.push_back(seq->history.back());
  }
  std::vector<float> logits;
  try {
    engine_.forward_batch(slots, tokens, &logits);
  } catch (const std::exception& e) {
    for (Sequence* seq : seqs) finish(*seq, FinishReason::kError, e.what());
    return;
  }
  const size_t vocab = logits.size() / seqs.size();
  for (size_t i = 0; i < seqs.size(); ++i) {
    Sequence& seq = *seqs[i];
    try {
      seq.logits.assign(logits.begin() + static_cast<std::ptrdiff_t>(i * vocab),
                        logits.begin() + static_cast<std::ptrdiff_t>((i + 1) * vocab));
      on_token(seq, sample(seq));
    } catch (const std::exception& e) {
      finish(seq, FinishReason::kError, e.what());
    }
  }
}

int32_t Scheduler::sample(Sequence& seq) {
  if (DecodingConstraint* constraint = seq.request.constraint.get()) {
    static const std::set<int32_t> kNoEos;
    // ignore_eos: the sequence still ends when the constrained output is complete.
    constraint->mask_logits(seq.logits, seq.request.ignore_eos ? kNoEos : options_.stop_ids);
  }
  return seq.sampler.sample(seq.logits, seq.history);
}

void Scheduler::on_token(Sequence& seq, int32_t token) {
  const auto now = Clock::now();
  const bool first = seq.generated == 0;  // a sampled EOS ends the sequence, so this is exact
  if (first) seq.stats.first_token_seconds = seconds(seq.submitted, now);
  if (observer_) {
    if (first) observer_->on_first_token(seq.stats.first_token_seconds);
    else observer_->on_next_token(seconds(seq.last_token, now));
  }
  seq.last_token = now;

  SequenceEvent event;
  if (!seq.request.ignore_eos && options_.stop_ids.count(token)) {
    // End of text: release what the decoder and the stop matcher were holding back.
    std::string tail = seq.decoder_tail();
    StopStringMatcher::Result r = seq.stops.push(tail);
    event.text = r.text + (r.stopped ? std::string() : seq.stops.flush());
    if (!event.text.empty()) seq.channel->post(std::move(event));
    finish(seq, FinishReason::kStop);
    return;
  }
  ++seq.generated;
  seq.history.push_back(token);
  event.tokens.push_back(token);
  if (seq.request.constraint) seq.request.constraint->accept_token(token);
  if (seq.request.top_logprobs >= 0)
    event.logprobs.push_back(token_logprob(seq.logits, options_.allowed_vocab, token, seq.request.top_logprobs));
  // Ids without a token (embedding padding is excluded by the sampler, but holes in the id
  // range are possible) contribute no text rather than failing the request.
  std::string piece = tokenizer_ && tokenizer_->is_known(token) ? seq.decoder->push(token) : std::string();
  StopStringMatcher::Result r = seq.stops.push(piece);
  event.text = std::move(r.text);
  if (r.stopped) {
    seq.channel->post(std::move(event));
    finish(seq, FinishReason::kStop);
    return;
  }
  const bool complete = seq.request.constraint && seq.request.constraint->finished();
  if (complete || seq.generated >= seq.request.max_tokens) {
    StopStringMatcher::Result last = seq.stops.push(seq.decoder_tail());
    event.text += last.text;
    if (!last.stopped) event.text += seq.stops.flush();
    seq.channel->post(std::move(event));
    finish(seq, last.stopped || complete ? FinishReason::kStop : FinishReason::kLength);
    return;
  }
  seq.channel->post(std::move(event));
}

void Scheduler::finish(Sequence& seq, FinishReason reason, std::string error) {
  if (seq.done) return;
  seq.done = true;
  if (seq.slot > 0) {
    try {
      engine_.release(seq.slot);
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
    }
    reserved_bytes_.fetch_sub(seq.state_bytes);
    seq.state_bytes = 0;
  }
  const auto now = Clock::now();
  seq.stats.prompt_tokens = static_cast<int64_t>(seq.request.prompt.size());
  seq.stats.completion_tokens = seq.generated;
  if (seq.prefilled == seq.request.prompt.size() && seq.slot > 0) seq.stats.decode_seconds = seconds(seq.prefill_done, now);
  SequenceEvent event;
  event.finish = reason;
  event.error = std::move(error);
  event.stats = seq.stats;
  seq.channel->post(std::move(event));
}

}  // namespace tessera

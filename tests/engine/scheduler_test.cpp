// The Scheduler on a single-process engine, with the trained demo model (data/demo-model), so
// the answers are known without running another implementation: "What is 2+2?" is "4".
// Covered: a batched decode round gives each sequence the tokens it gets alone; a long prompt
// delays a later short one by a prefill chunk, not by its whole prefill; the queue is first in,
// first out; a request cancelled while queued never runs; token-id-only mode (no tokenizer);
// prompt-only requests; stop strings.
#include "engine/lockstep.h"
#include "engine/scheduler.h"
#include "engine/stop_ids.h"
#include "model/model.h"
#include "parallel/communicator.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace tessera {
namespace {

const char* const kModelDir = TESSERA_SOURCE_DIR "/data/demo-model";

// A chat prompt in the Qwen3.5 template's rendering, thinking switched off.
std::string chat(const std::string& question) {
  return "<|im_start|>user\n" + question + "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
}

struct Outcome {
  std::vector<int32_t> tokens;
  std::string text;
  FinishReason finish = FinishReason::kNone;
  std::string error;
  SequenceStats stats;
};

Outcome collect(SequenceChannel& channel) {
  std::vector<SequenceEvent> events;
  channel.take(events, std::chrono::milliseconds(0));
  Outcome o;
  for (const SequenceEvent& e : events) {
    o.tokens.insert(o.tokens.end(), e.tokens.begin(), e.tokens.end());
    o.text += e.text;
    if (e.finish != FinishReason::kNone) {
      o.finish = e.finish;
      o.error = e.error;
      o.stats = e.stats;
    }
  }
  return o;
}

class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    comm_ = make_single_process_communicator().release();
    pool_ = new ThreadPool(1);
    model_ = Model::load(kModelDir, *comm_, *pool_).release();
    tokenizer_ = new Tokenizer(Tokenizer::load(kModelDir));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete model_;
    delete pool_;
    delete comm_;
  }

  SchedulerOptions options(int max_active) const {
    SchedulerOptions o;
    o.max_active = max_active;
    o.stop_ids = serving_stop_ids(model_->config(), *tokenizer_);
    o.allowed_vocab = std::min<int64_t>(tokenizer_->vocab_size(), model_->config().vocab_size);
    return o;
  }

  SequenceRequest request(const std::string& question, int64_t max_tokens = 8) const {
    SequenceRequest r;
    r.prompt = tokenizer_->encode(chat(question));
    r.max_tokens = max_tokens;
    return r;
  }

  // Runs the requests through one scheduler and returns each one's outcome, in order.
  std::vector<Outcome> run(const std::vector<SequenceRequest>& requests, SchedulerOptions o,
                           const Tokenizer* tokenizer, const std::vector<size_t>& cancel_before_run = {}) {
    LockstepEngine engine(*model_);
    Scheduler scheduler(engine, tokenizer, std::move(o));
    std::vector<std::shared_ptr<SequenceChannel>> channels;
    for (const SequenceRequest& r : requests) channels.push_back(scheduler.submit(r));
    for (size_t i : cancel_before_run) channels[i]->cancel();
    scheduler.drain();
    std::vector<Outcome> out;
    for (auto& c : channels) out.push_back(collect(*c));
    return out;
  }

  static Communicator* comm_;
  static ThreadPool* pool_;
  static Model* model_;
  static Tokenizer* tokenizer_;
};

Communicator* SchedulerTest::comm_ = nullptr;
ThreadPool* SchedulerTest::pool_ = nullptr;
Model* SchedulerTest::model_ = nullptr;
Tokenizer* SchedulerTest::tokenizer_ = nullptr;

TEST_F(SchedulerTest, AnswersAndStopsAtEndOfTurn) {
  const std::vector<Outcome> out = run({request("What is 2+2?"), request("Compute 17 - 5.")}, options(1), tokenizer_);
  EXPECT_EQ(out[0].text, "4");
  EXPECT_EQ(out[0].finish, FinishReason::kStop);
  EXPECT_EQ(out[1].text, "12");
  EXPECT_EQ(out[1].finish, FinishReason::kStop);
  EXPECT_EQ(tokenizer_->decode(out[1].tokens), "12");
  EXPECT_EQ(out[1].stats.completion_tokens, static_cast<int64_t>(out[1].tokens.size()));
}

TEST_F(SchedulerTest, BatchedDecodeEqualsOneAtATime) {
  std::vector<SequenceRequest> reqs = {request("What is 38 + 47?", 12), request("Hello!", 12),
                                       request("Calculate 91 minus 19.", 12), request("What is 2+2?", 12)};
  for (SequenceRequest& r : reqs) r.ignore_eos = true;  // keep all four decoding together to the end
  const std::vector<Outcome> alone = run(reqs, options(1), tokenizer_);
  const std::vector<Outcome> batched = run(reqs, options(4), tokenizer_);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(alone[i].tokens.size(), 12U) << i;
    EXPECT_EQ(batched[i].tokens, alone[i].tokens) << "request " << i;
    EXPECT_EQ(batched[i].finish, FinishReason::kLength) << i;
  }
}

TEST_F(SchedulerTest, LongPromptDelaysAShortOneByAChunkNotItsWholePrefill) {
  SchedulerOptions o = options(2);
  o.prefill_chunk = 64;
  SequenceRequest long_one = request("What is 1 + 1?", 1);
  const std::vector<int32_t> filler = tokenizer_->encode(chat("Hello!"));
  while (long_one.prompt.size() <= 5 * 64U)
    long_one.prompt.insert(long_one.prompt.begin(), filler.begin(), filler.end());  // earlier turns
  ASSERT_GT(long_one.prompt.size(), 5 * 64U);
  const std::vector<Outcome> out = run({long_one, request("What is 2+2?", 1)}, o, tokenizer_);
  // The short request was submitted second but got its first token while the long prompt was
  // still in prefill: its wait from its own (later) submission is the shorter.
  EXPECT_LT(out[1].stats.first_token_seconds, out[0].stats.first_token_seconds);
  EXPECT_EQ(out[1].text, "4");
}

TEST_F(SchedulerTest, QueueIsFirstInFirstOut) {
  const std::vector<Outcome> out =
      run({request("What is 2+2?"), request("What is 3+3?"), request("What is 4+4?")}, options(1), tokenizer_);
  EXPECT_LE(out[0].stats.queue_seconds, out[1].stats.queue_seconds);
  EXPECT_LT(out[1].stats.queue_seconds, out[2].stats.queue_seconds);
  EXPECT_EQ(out[2].text, "8");
}

TEST_F(SchedulerTest, CancelledWhileQueuedNeverRuns) {
  const std::vector<Outcome> out =
      run({request("What is 2+2?"), request("What is 3+3?"), request("What is 4+4?")}, options(1), tokenizer_, {1});
  EXPECT_EQ(out[0].text, "4");
  EXPECT_EQ(out[1].finish, FinishReason::kCancelled);
  EXPECT_TRUE(out[1].tokens.empty());
  EXPECT_EQ(out[1].stats.completion_tokens, 0);
  EXPECT_EQ(out[2].text, "8");
}

TEST_F(SchedulerTest, WithoutATokenizerEventsCarryTheSameIdsAndNoText) {
  const std::vector<Outcome> with_text = run({request("What is 56 + 21?")}, options(1), tokenizer_);
  const std::vector<Outcome> ids_only = run({request("What is 56 + 21?")}, options(1), nullptr);
  EXPECT_EQ(ids_only[0].tokens, with_text[0].tokens);
  EXPECT_EQ(with_text[0].text, "77");
  EXPECT_TRUE(ids_only[0].text.empty());
  EXPECT_EQ(ids_only[0].finish, FinishReason::kStop);

  LockstepEngine engine(*model_);
  Scheduler scheduler(engine, nullptr, options(1));
  SequenceRequest r = request("What is 2+2?");
  r.stop_strings = {"4"};
  try {
    scheduler.submit(r);
    FAIL() << "stop strings accepted without a tokenizer";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stop strings need the model's tokenizer"), std::string::npos) << e.what();
  }
  scheduler.drain();
}

TEST_F(SchedulerTest, PromptOnlyRequestEndsWithLengthAndNoTokens) {
  const std::vector<Outcome> out = run({request("What is 2+2?", 0)}, options(1), tokenizer_);
  EXPECT_EQ(out[0].finish, FinishReason::kLength);
  EXPECT_TRUE(out[0].tokens.empty());
  EXPECT_GT(out[0].stats.prompt_tokens, 0);
}

TEST_F(SchedulerTest, StopStringCutsTheTextAndEndsTheSequence) {
  SequenceRequest r = request("What is 38 + 47?");
  r.stop_strings = {"5"};
  const std::vector<Outcome> out = run({r}, options(1), tokenizer_);
  EXPECT_EQ(out[0].text, "8");  // the answer is 85
  EXPECT_EQ(out[0].finish, FinishReason::kStop);
}

}  // namespace
}  // namespace tessera

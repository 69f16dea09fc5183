// tessera bench --model DIR --prompt-tokens 512 --gen-tokens 128 [--threads N] [--batch B]
// Prefill of a deterministic pseudo-random prompt, then greedy decode that ignores EOS, so
// every run does the same amount of work. Peak RSS is reported per rank and as the maximum.
// --batch B decodes B sequences together (one batched pass per step, as the server does for
// concurrent requests); gen_tps is then the total over all B, per_sequence_gen_tps each one's.
// --compare-depth N then decodes two more sequences, one after 8 tokens and one after N, one
// step of each in turn, so both see the same (noisy) machine: depth_compare reports both speeds.
#include "cli/command.h"
#include "cli/runtime.h"

#include <chrono>

namespace tessera::cli {
namespace {

struct BenchOptions {
  std::string model;
  int64_t prompt_tokens = 512;
  int64_t gen_tokens = 128;
  int64_t batch = 1;
  int64_t compare_depth = 0;
  ModelOptions model_options;
};

// Greedy choice from one row of logits (bench decodes greedily so every run does the same work).
int32_t greedy(const float* row, int64_t vocab) {
  return static_cast<int32_t>(std::max_element(row, row + vocab) - row);
}

// Decode speed after 8 tokens of context and after `depth`, measured step by step in turn.
nlohmann::json compare_depths(LockstepEngine& engine, const std::vector<int32_t>& seed, int64_t depth, int64_t steps,
                              int64_t vocab) {
  using clock = std::chrono::steady_clock;
  constexpr int kShallowSlot = 1000, kDeepSlot = 1001;
  constexpr int64_t kShallow = 8;
  std::vector<int32_t> deep_prompt;
  for (int64_t i = 0; i < depth; ++i) deep_prompt.push_back(seed[static_cast<size_t>(i) % seed.size()]);
  std::vector<float> logits;
  engine.forward(kShallowSlot, std::span<const int32_t>(deep_prompt.data(), kShallow), false, &logits);
  int32_t shallow_next = greedy(logits.data(), vocab);
  engine.forward(kDeepSlot, deep_prompt, false, &logits);
  int32_t deep_next = greedy(logits.data(), vocab);
  double shallow_s = 0, deep_s = 0;
  for (int64_t i = 0; i < steps; ++i) {
    auto t0 = clock::now();
    engine.forward(kShallowSlot, std::span<const int32_t>(&shallow_next, 1), false, &logits);
    auto t1 = clock::now();
    shallow_next = greedy(logits.data(), vocab);
    engine.forward(kDeepSlot, std::span<const int32_t>(&deep_next, 1), false, &logits);
    auto t2 = clock::now();
    deep_next = greedy(logits.data(), vocab);
    shallow_s += std::chrono::duration<double>(t1 - t0).count();
    deep_s += std::chrono::duration<double>(t2 - t1).count();
  }
  engine.release(kShallowSlot);
  engine.release(kDeepSlot);
  const double shallow_tps = static_cast<double>(steps) / shallow_s, deep_tps = static_cast<double>(steps) / deep_s;
  return {{"shallow_depth", kShallow}, {"deep_depth", depth}, {"shallow_gen_tps", shallow_tps},
          {"deep_gen_tps", deep_tps}, {"deep_over_shallow", deep_tps / shallow_tps}};
}

void run(const BenchOptions& o) {
  if (o.prompt_tokens < 1 || o.gen_tokens < 1) fail("--prompt-tokens and --gen-tokens must be at least 1");
  if (o.batch < 1 || o.batch > 64) fail("--batch must be between 1 and 64, got {}", o.batch);
  if (o.compare_depth < 0 || (o.compare_depth > 0 && o.compare_depth < 8))
    fail("--compare-depth must be 0 (off) or at least 8, got {}", o.compare_depth);
  using clock = std::chrono::steady_clock;
  const auto load_start = clock::now();
  run_model_command(o.model_options, o.model, [&](LockstepEngine& engine, Runtime& rt) {
    const double load_seconds = std::chrono::duration<double>(clock::now() - load_start).count();
    const int64_t V = engine.model().config().vocab_size;
    std::vector<int32_t> prompt;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int64_t i = 0; i < o.prompt_tokens; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      prompt.push_back(static_cast<int32_t>(x % static_cast<uint64_t>(std::min<int64_t>(V, 1000))));
    }
    std::vector<float> logits;
    auto t0 = clock::now();
    engine.forward(0, prompt, false, &logits);
    const double prompt_s = std::chrono::duration<double>(clock::now() - t0).count();
    // Further sequences of a batch start from the same prompt with a different last token.
    std::vector<int32_t> slots = {0}, next = {greedy(logits.data(), V)};
    for (int32_t s = 1; s < o.batch; ++s) {
      prompt.back() = static_cast<int32_t>((prompt.back() + s) % std::min<int64_t>(V, 1000));
      engine.forward(s, prompt, false, &logits);
      slots.push_back(s);
      next.push_back(greedy(logits.data(), V));
    }
    const double reduce_before = rt.comm->all_reduce_seconds();
    const ThreadPool::Stats pool_before = rt.pool->stats();
    auto t1 = clock::now();
    for (int64_t i = 0; i < o.gen_tokens; ++i) {
      if (o.batch == 1) engine.forward(0, std::span<const int32_t>(next.data(), 1), false, &logits);
      else engine.forward_batch(slots, next, &logits);
      for (size_t s = 0; s < next.size(); ++s) next[s] = greedy(logits.data() + static_cast<int64_t>(s) * V, V);
    }
    const double gen_s = std::chrono::duration<double>(clock::now() - t1).count();
    const double reduce_s = rt.comm->all_reduce_seconds() - reduce_before;
    nlohmann::json depth_compare = nullptr;
    if (o.compare_depth > 0) depth_compare = compare_depths(engine, prompt, o.compare_depth, o.gen_tokens, V);
    const ThreadPool::Stats pool_after = rt.pool->stats();
    const double regions_per_token =
        static_cast<double>(pool_after.regions - pool_before.regions) / static_cast<double>(o.gen_tokens);
    const double barrier_wait_s = pool_after.wait_seconds - pool_before.wait_seconds;
    // Every rank's peak RSS, gathered once the workers have left the lock-step loop.
    engine.shutdown();
    const int64_t mine = peak_rss_bytes();
    std::vector<int64_t> all(static_cast<size_t>(rt.comm->size()));
    rt.comm->all_gather_i64(&mine, 1, all.data());
    const int64_t peak = *std::max_element(all.begin(), all.end());
    print_json({{"prompt_tokens", o.prompt_tokens},
                {"gen_tokens", o.gen_tokens},
                {"prompt_tps", static_cast<double>(o.prompt_tokens) / prompt_s},
                {"gen_tps", static_cast<double>(o.gen_tokens * o.batch) / gen_s},
                {"batch", o.batch},
                {"per_sequence_gen_tps", static_cast<double>(o.gen_tokens) / gen_s},
                {"peak_rss_bytes", peak},
                {"peak_rss_bytes_per_rank", all},
                {"load_seconds", load_seconds},
                {"world_size", rt.comm->size()},
                {"threads", rt.pool->size()},
                {"kernels", Model::kernel_set_name()},
                {"allreduce_fraction_of_decode", gen_s > 0 ? reduce_s / gen_s : 0.0},
                {"parallel_regions_per_token", regions_per_token},
                {"barrier_wait_us_per_token", 1e6 * barrier_wait_s / static_cast<double>(o.gen_tokens)},
                {"barrier_wait_fraction_of_decode", gen_s > 0 ? barrier_wait_s / gen_s : 0.0},
                {"weight_bytes_rank0", engine.model().weight_bytes()},
                {"depth_compare", depth_compare}});
  }, /*after_workers=*/[](Runtime& rt) {
    const int64_t mine = peak_rss_bytes();
    std::vector<int64_t> all(static_cast<size_t>(rt.comm->size()));
    rt.comm->all_gather_i64(&mine, 1, all.data());
  });
}

const bool registered = register_command({"bench", "Measure prefill and decode speed", [](CLI::App& sub) {
  auto o = std::make_shared<BenchOptions>();
  sub.add_option("--model", o->model, "checkpoint directory")->required();
  sub.add_option("--prompt-tokens", o->prompt_tokens, "prompt length (default 512)");
  sub.add_option("--gen-tokens", o->gen_tokens, "tokens to generate (default 128)");
  sub.add_option("--batch", o->batch, "sequences decoded together in one pass per step (default 1)");
  sub.add_option("--compare-depth", o->compare_depth,
                 "also compare decode after 8 tokens with decode after N, step by step in turn (default 0: off)");
  add_model_options(sub, o->model_options);
  sub.callback([o] { run(*o); });
}});

}  // namespace
}  // namespace tessera::cli

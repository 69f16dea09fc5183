// Microbenchmarks of the hot kernels at the bench model's shapes (Qwen3.5-35B-A3B reduced:
// hidden 2048, expert intermediate 512, DeltaNet 32 value heads of 128). Bytes/s counts weight
// bytes read, so decode numbers compare directly with the machine's memory bandwidth.
#include "kernels/delta_rule.h"
#include "kernels/matmul.h"
#include "tensor/affine_quantize.h"
#include "tensor/dtype.h"

#include <benchmark/benchmark.h>

#include <random>

namespace tessera {
namespace {

Matrix bf16_matrix(int64_t rows, int64_t cols) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  Matrix m;
  m.format = WeightFormat::kBF16;
  m.rows = rows;
  m.cols = cols;
  m.data = AlignedBuffer(static_cast<size_t>(rows * cols * 2));
  auto* p = reinterpret_cast<uint16_t*>(m.data.data());
  for (int64_t i = 0; i < rows * cols; ++i) p[i] = f32_to_bf16(normal(rng));
  return m;
}

// Decode: one token through a [rows, 2048] projection; args: bits (16 = bf16), threads.
void BM_DecodeMatvec(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  ThreadPool pool(static_cast<int>(state.range(1)));
  const int64_t rows = 8192, cols = 2048;  // 32 MB at bf16: larger than the caches
  Matrix w = bf16_matrix(rows, cols);
  if (bits != 16) w = quantize_affine(w, bits, 64);
  std::vector<float> x(cols, 0.5f), y(rows);
  for (auto _ : state) {
    matmul(w, x.data(), 1, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.bytes()));
}
// The same with a matrix that fits in L2 (256 × 2048): the kernel's compute ceiling, to tell a
// compute-bound format from a bandwidth-bound one; args: bits (16 = bf16), tokens (a decode batch).
void BM_DecodeMatvecCached(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const int64_t tokens = state.range(1);
  ThreadPool pool(1);
  Matrix w = bf16_matrix(256, 2048);
  if (bits != 16) w = quantize_affine(w, bits, 64);
  std::vector<float> x(static_cast<size_t>(2048 * tokens), 0.5f), y(static_cast<size_t>(256 * tokens));
  for (auto _ : state) {
    matmul(w, x.data(), tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 256 * 2048 * tokens);
}
BENCHMARK(BM_DecodeMatvecCached)->ArgsProduct({{16, 8, 6, 4}, {1, 4}});

BENCHMARK(BM_DecodeMatvec)->Args({16, 1})->Args({16, 2})->Args({8, 1})->Args({8, 2})->Args({4, 1})->Args({4, 2})
    ->Args({6, 2})->UseRealTime();

// Prefill: 128 tokens through a [1024, 2048] bf16 projection; items = multiply-adds.
void BM_PrefillMatmul(benchmark::State& state) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  const int64_t rows = 1024, cols = 2048, tokens = 128;
  const Matrix w = bf16_matrix(rows, cols);
  std::vector<float> x(tokens * cols, 0.5f), y(tokens * rows);
  for (auto _ : state) {
    matmul(w, x.data(), tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * rows * cols * tokens);
}
BENCHMARK(BM_PrefillMatmul)->Arg(1)->Arg(2)->UseRealTime();

// Gated delta rule for one 128×128 head: decode step (recurrent) and a 512-token prefill.
void BM_DeltaRule(benchmark::State& state) {
  const bool chunked = state.range(0) != 0;
  const int64_t T = chunked ? 512 : 1, dk = 128, dv = 128;
  std::vector<float> q(T * dk, 0.01f), k(T * dk, 0.01f), v(T * dv, 0.1f), g(T, -0.1f), beta(T, 0.5f), o(T * dv),
      S(dk * dv, 0.0f);
  const DeltaRuleHead h{q.data(), dk, k.data(), dk, v.data(), dv, g.data(), beta.data(), 1, o.data(), dv, dk, dv};
  for (auto _ : state) {
    if (chunked) delta_rule_chunked(h, T, S.data());
    else delta_rule_recurrent(h, T, S.data());
    benchmark::DoNotOptimize(o.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * T);
}
BENCHMARK(BM_DeltaRule)->Arg(0)->Arg(1);

}  // namespace
}  // namespace tessera

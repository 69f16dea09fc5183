// One set of kernel bodies per instruction set, chosen once at start-up from the CPU's features:
// "avx512" (AVX-512 F/BW/VL/DQ; the affine dot product also needs VNNI + VBMI), "avx2" (AVX2 +
// FMA) or "scalar" (plain C++, any x86-64: the fallback and the reference the others are tested
// against). The bodies live in <op>_avx2.cpp / <op>_avx512.cpp, compiled for those ISAs, and in
// scalar_kernels.cpp; everything else is compiled for baseline x86-64, so the binary starts on
// any x86-64 CPU and only ever calls bodies the CPU can run.
// TESSERA_ISA=scalar|avx2|avx512 in the environment picks a set below the best one (to compare
// paths); asking for one the CPU lacks is an error.
#pragma once

#include "kernels/affine_dot.h"
#include "kernels/delta_rule.h"
#include "kernels/gemm_rows.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera {

struct KernelSet {
  const char* name;
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  void (*bf16_to_f32_row)(const uint16_t* in, float* out, int64_t n);
  // bf16 / fp32 projections: one row against one token (decode), and 4 rows against a batch.
  // Within a set, both sum a (row, token) pair in the same order (kernels/gemm_rows.h).
  float (*row_dot)(const void* row, bool bf16, const float* x, int64_t K);
  void (*gemm_rows)(const RowBlock& block, int64_t K, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                    int64_t ldy);
  // MLX affine projections (kernels/affine_dot.h); `out` is already sized.
  void (*prepare_affine_activations)(const float* x, int64_t cols, int group_size, int bits, AffineActivations* out);
  void (*affine_dot_rows)(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y,
                          int64_t y_stride);
  // Attention inner loops (kernels/attention_blocks.h).
  void (*attention_scores4)(const float* q, const float* keys, int64_t stride, int64_t head_dim, float* out);
  void (*attention_add_values)(const float* p, int64_t n, const float* values, int64_t stride, int64_t head_dim,
                               float* o);
  // The gated delta rule (kernels/delta_rule.h), with caller-provided scratch.
  void (*delta_rule_recurrent)(const DeltaRuleHead& h, int64_t n_tokens, float* state, float* scratch);
  void (*delta_rule_chunked)(const DeltaRuleHead& h, int64_t n_tokens, float* state, int64_t chunk, float* scratch);
};

// The active set (chosen on first use; throws tessera::Error on a bad TESSERA_ISA).
const KernelSet& kernels();
// Every set this CPU can run, scalar first (tests compare each with the scalar one).
std::vector<const KernelSet*> runnable_kernel_sets();
const KernelSet& scalar_kernels();
// For the log: "avx512 (the best this CPU runs)" or "scalar (TESSERA_ISA; this CPU runs up to avx512)".
std::string describe_kernels();

}  // namespace tessera

#include "kernels/kernel_set.h"

#include "kernels/attention_blocks.h"
#include "kernels/cpu_features.h"
#include "kernels/dot.h"
#include "util/error.h"

#include <cstdlib>
#include <string>

namespace tessera {
namespace {

// The AVX-512 affine body covers MLX's common formats and needs VNNI + VBMI; the rest goes to
// the AVX2 body, which reads the same prepared activations.
void affine_dot_rows_avx512_or_avx2(const AffineRows& rows, std::span<const AffineActivations> tokens, float* y,
                                    int64_t y_stride) {
  static const bool vnni = cpu_has_avx512_vnni();
  if (vnni && affine_dot_avx512_supported(rows.bits, rows.group_size))
    affine_dot_rows_avx512(rows, tokens, y, y_stride);
  else
    affine_dot_rows_avx2(rows, tokens, y, y_stride);
}

const KernelSet kScalar{"scalar",
                        dot_f32_scalar,
                        bf16_to_f32_row_scalar,
                        row_dot_scalar,
                        gemm_rows_scalar,
                        prepare_affine_activations_scalar,
                        affine_dot_rows_scalar,
                        attention_scores4_scalar,
                        attention_add_values_scalar,
                        delta_rule_recurrent_scalar,
                        delta_rule_chunked_scalar};
const KernelSet kAvx2{"avx2",
                      dot_f32_avx2,
                      bf16_to_f32_row_avx2,
                      row_dot_avx2,
                      gemm_rows_avx2,
                      prepare_affine_activations_avx2,
                      affine_dot_rows_avx2,
                      attention_scores4_avx2,
                      attention_add_values_avx2,
                      delta_rule_recurrent_avx2,
                      delta_rule_chunked_avx2};
const KernelSet kAvx512{"avx512",
                        dot_f32_avx2,
                        bf16_to_f32_row_avx2,
                        row_dot_avx512,
                        gemm_rows_avx512,
                        prepare_affine_activations_avx2,
                        affine_dot_rows_avx512_or_avx2,
                        attention_scores4_avx2,
                        attention_add_values_avx2,
                        delta_rule_recurrent_avx2,
                        delta_rule_chunked_avx2};

const KernelSet& choose() {
  const KernelSet* best = cpu_has_avx512() ? &kAvx512 : cpu_has_avx2() ? &kAvx2 : &kScalar;
  const char* forced = std::getenv("TESSERA_ISA");
  if (!forced || !*forced) return *best;
  for (const KernelSet* set : runnable_kernel_sets())
    if (std::string(forced) == set->name) return *set;
  fail("TESSERA_ISA={}: this CPU runs {}", forced,
       cpu_has_avx512() ? "scalar, avx2, avx512" : cpu_has_avx2() ? "scalar, avx2" : "scalar only");
}

}  // namespace

const KernelSet& kernels() {
  static const KernelSet& active = choose();
  return active;
}

std::vector<const KernelSet*> runnable_kernel_sets() {
  std::vector<const KernelSet*> sets{&kScalar};
  if (cpu_has_avx2()) sets.push_back(&kAvx2);
  if (cpu_has_avx512()) sets.push_back(&kAvx512);
  return sets;
}

const KernelSet& scalar_kernels() { return kScalar; }

std::string describe_kernels() {
  const KernelSet* best = runnable_kernel_sets().back();
  if (&kernels() == best) return std::string(best->name) + " (the best this CPU runs)";
  return std::string(kernels().name) + " (TESSERA_ISA; this CPU runs up to " + best->name + ")";
}

}  // namespace tessera

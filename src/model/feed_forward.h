// Feed-forward blocks (spec §3.6–3.7). Dimension letters: T tokens, H hidden, I this rank's
// slice of the intermediate dimension, E experts, k experts per token.
//   SwiGLU MLP : y = down( silu(gate x) * up(x) ); gate and up rows are stored together as one
//                [2I, H] matrix so one pass over the rows computes both.
//   Sparse MoE : p = softmax(router x) over all E; top-k; optional renormalisation;
//                y = Σ p_i Expert_i(x) + sigmoid(shared_gate · x) * Shared(x).
// Every rank holds a slice of every expert's intermediate dimension, so y is a partial sum; the
// caller all-reduces routed and shared parts together (one all-reduce per block).
#pragma once

#include "model/tensor_names.h"
#include "model/weight_loader.h"
#include "util/thread_pool.h"

#include <string>
#include <vector>

namespace tessera {

struct SwiGlu {
  Matrix gate_up;  // [2I, H]: rows [gate (I) | up (I)]
  Matrix down;     // [H, I]
};

struct MoeWeights {
  Matrix router;             // [E, H], replicated: every rank routes identically
  std::vector<SwiGlu> experts;
  bool has_shared = false;
  SwiGlu shared;
  Matrix shared_gate;        // [1, H], replicated
  int64_t top_k = 0;
  bool norm_topk_prob = true;
};

// Dense MLP with mlp.{gate,up,down}_proj (prefix ends in "mlp.").
SwiGlu load_dense_mlp(WeightLoader& loader, const ModelConfig& config, const ShardPlan& plan, const std::string& prefix);
MoeWeights load_moe(WeightLoader& loader, const ModelConfig& config, const ShardPlan& plan, const std::string& prefix,
                    ExpertLayout layout);

// x: [T, H] → out: [T, H] (overwritten with this rank's partial sum).
void swiglu_forward(const SwiGlu& w, const float* x, int64_t n_tokens, float* out, ThreadPool& pool);
void moe_forward(const MoeWeights& w, const float* x, int64_t n_tokens, float* out, ThreadPool& pool);

}  // namespace tessera

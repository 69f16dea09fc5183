#include "model/feed_forward.h"

#include "kernels/activation.h"
#include "kernels/matmul.h"

#include <algorithm>
#include <numeric>

namespace tessera {

namespace {

// A SwiGLU block from separate gate/up/down tensors [I_full, H], [I_full, H], [H, I_full].
SwiGlu load_swiglu(WeightLoader& loader, TensorRole role, const std::string& gate, const std::string& up,
                   const std::string& down, int64_t hidden, int64_t inter_full, Range inter, int64_t expert = -1, int64_t experts = 0) {
  std::vector<int64_t> in_shape = {inter_full, hidden}, out_shape = {hidden, inter_full};
  if (expert >= 0) {
    in_shape.insert(in_shape.begin(), experts);
    out_shape.insert(out_shape.begin(), experts);
  }
  SwiGlu w;
  w.gate_up = loader.matrix(Split::kColumn, {{.tensor = gate, .role = role,
                                              .shape = in_shape, .expert = expert, .rows = {inter}},
                                             {.tensor = up, .role = role,
                                              .shape = in_shape, .expert = expert, .rows = {inter}}});
  w.down = loader.matrix(Split::kRow, {.tensor = down, .role = role,
                                       .shape = out_shape, .expert = expert, .cols = inter});
  return w;
}

}  // namespace

SwiGlu load_dense_mlp(WeightLoader& loader, const ModelConfig& c, const ShardPlan& plan, const std::string& p) {
  return load_swiglu(loader, TensorRole::kDenseMlp, p + "gate_proj.weight", p + "up_proj.weight",
                     p + "down_proj.weight", c.hidden_size, c.intermediate_size, plan.dense_intermediate);
}

MoeWeights load_moe(WeightLoader& loader, const ModelConfig& c, const ShardPlan& plan, const std::string& p,
                    ExpertLayout layout) {
  const int64_t H = c.hidden_size, E = c.moe.num_experts, I = c.moe.moe_intermediate_size;
  const Range inter = plan.moe_intermediate;
  MoeWeights w;
  w.top_k = c.moe.num_experts_per_tok;
  w.norm_topk_prob = c.moe.norm_topk_prob;
  w.router = loader.matrix(Split::kReplicated, {.tensor = p + "gate.weight", .role = TensorRole::kRouter,
                                                .shape = {E, H}}, /*quantizable=*/false);
  for (int64_t e = 0; e < E; ++e) {
    switch (layout) {
      case ExpertLayout::kFusedGateUp: {
        // HF fused stack: gate_up_proj [E, 2I, H] (gate rows first), down_proj [E, H, I]; no ".weight".
        SwiGlu x;
        const std::string gu = p + "experts.gate_up_proj";
        x.gate_up = loader.matrix(Split::kColumn, {.tensor = gu, .role = TensorRole::kRoutedExpert,
                                                   .shape = {E, 2 * I, H}, .expert = e,
                                                   .rows = {inter, inter.shifted(I)}});
        x.down = loader.matrix(Split::kRow, {.tensor = p + "experts.down_proj", .role = TensorRole::kRoutedExpert,
                                             .shape = {E, H, I}, .expert = e, .cols = inter});
        w.experts.push_back(std::move(x));
        break;
      }
      case ExpertLayout::kSwitchMlp:
        w.experts.push_back(load_swiglu(loader, TensorRole::kRoutedExpert, p + "switch_mlp.gate_proj.weight",
                                        p + "switch_mlp.up_proj.weight", p + "switch_mlp.down_proj.weight", H, I,
                                        inter, e, E));
        break;
      case ExpertLayout::kPerExpert: {
        const std::string ep = p + "experts." + std::to_string(e) + ".";
        w.experts.push_back(load_swiglu(loader, TensorRole::kRoutedExpert, ep + "gate_proj.weight",
                                        ep + "up_proj.weight", ep + "down_proj.weight", H, I, inter));
        break;
      }
    }
  }
  w.has_shared = c.moe.shared_expert_intermediate_size > 0;
  if (w.has_shared) {
    const std::string sp = p + "shared_expert.";
    w.shared = load_swiglu(loader, TensorRole::kSharedExpert, sp + "gate_proj.weight", sp + "up_proj.weight",
                           sp + "down_proj.weight", H, c.moe.shared_expert_intermediate_size, plan.shared_intermediate);
    w.shared_gate = loader.matrix(Split::kReplicated,
                                  {.tensor = p + "shared_expert_gate.weight", .role = TensorRole::kSharedExpert,
                                   .shape = {1, H}},
                                  /*quantizable=*/false);
  }
  return w;
}

void swiglu_forward(const SwiGlu& w, const float* x, int64_t T, float* out, ThreadPool& pool) {
  const int64_t I = w.down.cols;
  std::vector<float> gu(static_cast<size_t>(T * 2 * I)), act(static_cast<size_t>(T * I));
  matmul(w.gate_up, x, T, gu.data(), pool);
  for (int64_t t = 0; t < T; ++t) swiglu(gu.data() + t * 2 * I, gu.data() + t * 2 * I + I, act.data() + t * I, I);
  matmul(w.down, act.data(), T, out, pool);
}

void moe_forward(const MoeWeights& w, const float* x, int64_t T, float* out, ThreadPool& pool) {
  const int64_t E = w.router.rows, H = w.router.cols, k = w.top_k;
  std::vector<float> probs(static_cast<size_t>(T * E));
  matmul(w.router, x, T, probs.data(), pool);

  // Routing in fp32: softmax over all experts, top-k (ties to the lower index), renormalise.
  std::vector<std::vector<std::pair<int64_t, float>>> per_expert(static_cast<size_t>(E));  // (token, weight)
  std::vector<int64_t> order(static_cast<size_t>(E));
  for (int64_t t = 0; t < T; ++t) {
    float* p = probs.data() + t * E;
    softmax(p, E);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    float sum = 0;
    for (int64_t i = 0; i < k; ++i) sum += p[order[i]];
    for (int64_t i = 0; i < k; ++i)
      per_expert[order[i]].push_back({t, w.norm_topk_prob ? p[order[i]] / sum : p[order[i]]});
  }

  // One batch of gate|up projections (every selected expert on its tokens, the shared expert and
  // its gate on all tokens), then one batch of down projections: two thread hand-offs per block.
  // An expert that sees every token (always so in decode) reads x in place: the projections then
  // share one input, so quantized kernels prepare its activations once for all of them.
  struct Active {
    const SwiGlu* mlp;
    int64_t n;
    const float* x;
    std::vector<float> gathered, gu, act, y;
  };
  std::vector<Active> active;
  std::vector<int64_t> expert_of;
  for (int64_t e = 0; e < E; ++e) {
    if (per_expert[e].empty()) continue;
    Active a{&w.experts[e], static_cast<int64_t>(per_expert[e].size()), x, {}, {}, {}, {}};
    if (a.n != T) {  // tokens are appended in order, so n == T means all of them, in order
      a.gathered.resize(static_cast<size_t>(a.n * H));
      for (int64_t i = 0; i < a.n; ++i) std::copy_n(x + per_expert[e][i].first * H, H, a.gathered.data() + i * H);
      a.x = a.gathered.data();
    }
    active.push_back(std::move(a));
    expert_of.push_back(e);
  }
  if (w.has_shared) active.push_back(Active{&w.shared, T, x, {}, {}, {}, {}});
  std::vector<float> shared_gate(static_cast<size_t>(T));
  std::vector<MatmulJob> jobs;
  for (Active& a : active) {
    a.gu.resize(static_cast<size_t>(a.n * a.mlp->gate_up.rows));
    jobs.push_back({&a.mlp->gate_up, a.x, a.n, a.gu.data()});
  }
  if (w.has_shared) jobs.push_back({&w.shared_gate, x, T, shared_gate.data()});
  matmul_jobs(jobs, pool);
  jobs.clear();
  for (Active& a : active) {
    const int64_t I = a.mlp->down.cols;
    a.act.resize(static_cast<size_t>(a.n * I));
    a.y.resize(static_cast<size_t>(a.n * H));
    for (int64_t t = 0; t < a.n; ++t) swiglu(a.gu.data() + t * 2 * I, a.gu.data() + t * 2 * I + I, a.act.data() + t * I, I);
    jobs.push_back({&a.mlp->down, a.act.data(), a.n, a.y.data()});
  }
  matmul_jobs(jobs, pool);

  std::fill(out, out + T * H, 0.0f);
  for (size_t i = 0; i < expert_of.size(); ++i) {
    const auto& routed = per_expert[expert_of[i]];
    for (size_t j = 0; j < routed.size(); ++j) {
      float* o = out + routed[j].first * H;
      const float weight = routed[j].second;
      const float* y = active[i].y.data() + j * H;
      for (int64_t c = 0; c < H; ++c) o[c] += weight * y[c];
    }
  }
  if (w.has_shared) {
    const float* s = active.back().y.data();
    for (int64_t t = 0; t < T; ++t) {
      const float g = sigmoid(shared_gate[t]);
      for (int64_t c = 0; c < H; ++c) out[t * H + c] += g * s[t * H + c];
    }
  }
}

}  // namespace tessera

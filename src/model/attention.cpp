#include "model/attention.h"

#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"

#include <cmath>

namespace tessera {

AttentionWeights load_attention(WeightLoader& loader, const ModelConfig& c, const ShardPlan& plan,
                                const std::string& p, bool add_one) {
  AttentionWeights w;
  const int64_t H = c.hidden_size, hd = c.head_dim;
  w.gated = c.has_attention_output_gate();
  w.heads = plan.q_heads.size();
  w.kv_heads = plan.kv_heads.size();
  w.head_dim = hd;
  const int64_t q_rows_per_head = w.gated ? 2 * hd : hd;
  // Query heads are contiguous blocks of rows (query|gate interleaved per head), so one range.
  w.q_proj = loader.matrix(Split::kColumn, {.tensor = p + "q_proj.weight", .role = TensorRole::kAttention,
                                            .shape = {c.num_attention_heads * q_rows_per_head, H},
                                            .rows = {plan.q_heads.scaled(q_rows_per_head)}});
  const SourceSlice kv{.role = TensorRole::kAttention,
                       .shape = {c.num_key_value_heads * hd, H}, .rows = {plan.kv_heads.scaled(hd)}};
  SourceSlice k = kv, v = kv;
  k.tensor = p + "k_proj.weight";
  v.tensor = p + "v_proj.weight";
  w.k_proj = loader.matrix(Split::kColumn, k);
  w.v_proj = loader.matrix(Split::kColumn, v);
  w.o_proj = loader.matrix(Split::kRow, {.tensor = p + "o_proj.weight", .role = TensorRole::kAttention,
                                         .shape = {H, c.num_attention_heads * hd},
                                         .cols = plan.q_heads.scaled(hd)});
  w.q_norm = loader.vector(TensorRole::kNorm, p + "q_norm.weight", {hd}, {}, add_one);
  w.k_norm = loader.vector(TensorRole::kNorm, p + "k_norm.weight", {hd}, {}, add_one);
  return w;
}

void attention_forward(const AttentionWeights& w, const Rope& rope, float eps, const float* x, int64_t T,
                       std::span<const RowSegment> segments, float* out, ThreadPool& pool) {
  const int64_t hd = w.head_dim, h = w.heads, g = w.kv_heads;
  const int64_t q_width = w.q_proj.rows, kv_width = g * hd;
  std::vector<float> qg(static_cast<size_t>(T * q_width)), k(static_cast<size_t>(T * kv_width)),
      v(static_cast<size_t>(T * kv_width));
  const MatmulJob projections[] = {{&w.q_proj, x, T, qg.data()}, {&w.k_proj, x, T, k.data()}, {&w.v_proj, x, T, v.data()}};
  matmul_jobs(projections, pool);

  // q/k RMSNorm per head before RoPE; K and V appended to each sequence's position-major cache.
  const int64_t q_stride = w.gated ? 2 * hd : hd;
  std::vector<const RowSegment*> segment_of(static_cast<size_t>(T));
  for (const RowSegment& seg : segments) {
    LayerState& state = *seg.state;
    state.keys.resize(static_cast<size_t>((seg.start_pos + seg.n_rows) * kv_width));
    state.values.resize(static_cast<size_t>((seg.start_pos + seg.n_rows) * kv_width));
    for (int64_t i = 0; i < seg.n_rows; ++i) {
      const int64_t t = seg.first_row + i, pos = seg.start_pos + i;
      segment_of[t] = &seg;
      float* qt = qg.data() + t * q_width;
      for (int64_t head = 0; head < h; ++head) rms_norm(qt + head * q_stride, w.q_norm.data(), qt + head * q_stride, hd, eps);
      rope.apply(qt, h, q_stride, pos);
      float* kt = k.data() + t * kv_width;
      for (int64_t head = 0; head < g; ++head) rms_norm(kt + head * hd, w.k_norm.data(), kt + head * hd, hd, eps);
      rope.apply(kt, g, hd, pos);
      std::copy_n(kt, kv_width, state.keys.data() + pos * kv_width);
      std::copy_n(v.data() + t * kv_width, kv_width, state.values.data() + pos * kv_width);
    }
  }

  // Each row attends causally within its sequence. Query heads i*group .. (i+1)*group - 1 share
  // local KV head i and go through the cache together (kernels/attention.h), so the cache is read
  // once per KV head. With fewer (row, KV head) items than threads a group is split in two, so
  // both cores work on a single decode token.
  std::vector<float> o(static_cast<size_t>(T * h * hd));
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t group = h / g;
  const int64_t parts = (T * g < pool.size() && group % 2 == 0) ? 2 : 1, part_heads = group / parts;
  pool.parallel_for(T * g * parts, [&](int64_t b, int64_t e, int) {
    const float* q[64];
    float* out_heads[64];
    for (int64_t item = b; item < e; ++item) {
      const int64_t t = item / (g * parts), kvh = item / parts % g, first = kvh * group + item % parts * part_heads;
      const RowSegment& seg = *segment_of[t];
      const int64_t length = seg.start_pos + (t - seg.first_row) + 1;
      for (int64_t n0 = 0; n0 < part_heads; n0 += 64) {  // 64 heads per pass bounds the pointer arrays
        const int64_t n = std::min<int64_t>(64, part_heads - n0);
        for (int64_t i = 0; i < n; ++i) {
          q[i] = qg.data() + t * q_width + (first + n0 + i) * q_stride;
          out_heads[i] = o.data() + (t * h + first + n0 + i) * hd;
        }
        attend_group(q, n, seg.state->keys.data() + kvh * hd, seg.state->values.data() + kvh * hd, kv_width, length, hd,
                     scale, out_heads);
        if (w.gated)
          for (int64_t i = 0; i < n; ++i) {
            const float* gate = q[i] + hd;
            for (int64_t e2 = 0; e2 < hd; ++e2) out_heads[i][e2] *= sigmoid(gate[e2]);
          }
      }
    }
  });
  matmul(w.o_proj, o.data(), T, out, pool);
}

}  // namespace tessera

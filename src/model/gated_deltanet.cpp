#include "model/gated_deltanet.h"

#include "kernels/activation.h"
#include "kernels/conv1d.h"
#include "kernels/delta_rule.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"

#include <cmath>

namespace tessera {

DeltaNetWeights load_deltanet(WeightLoader& loader, const ModelConfig& c, const ShardPlan& plan,
                              const std::string& p, DeltaNetProjections projections, bool mlx_conv_layout) {
  const auto& la = c.linear;
  const int64_t H = c.hidden_size, dk = la.key_head_dim, dv = la.value_head_dim;
  const int64_t key_dim = la.key_dim(), value_dim = la.value_dim(), r = la.num_value_heads / la.num_key_heads;
  const Range kh = plan.linear_key_heads, vh = plan.linear_value_heads;
  DeltaNetWeights w;
  w.key_heads = kh.size();
  w.value_heads = vh.size();
  w.dk = dk;
  w.dv = dv;
  w.kernel = la.conv_kernel;

  if (projections == DeltaNetProjections::kSeparate) {
    // [q | k | v] split section by section so this rank's q, k and v heads line up.
    w.in_qkv = loader.matrix(Split::kColumn, {.tensor = p + "in_proj_qkv.weight", .role = TensorRole::kLinearAttention,
                                              .shape = {la.conv_dim(), H},
                                              .rows = {kh.scaled(dk), kh.scaled(dk).shifted(key_dim),
                                                       vh.scaled(dv).shifted(2 * key_dim)}});
    w.in_z = loader.matrix(Split::kColumn, {.tensor = p + "in_proj_z.weight", .role = TensorRole::kLinearAttention,
                                            .shape = {value_dim, H}, .rows = {vh.scaled(dv)}});
    w.in_b = loader.matrix(Split::kColumn, {.tensor = p + "in_proj_b.weight", .role = TensorRole::kLinearAttention,
                                            .shape = {la.num_value_heads, H}, .rows = {vh}});
    w.in_a = loader.matrix(Split::kColumn, {.tensor = p + "in_proj_a.weight", .role = TensorRole::kLinearAttention,
                                            .shape = {la.num_value_heads, H}, .rows = {vh}});
  } else {
    // Qwen3-Next: rows grouped per key head g as [q_g (dk) | k_g (dk) | v_g (r*dv) | z_g (r*dv)],
    // and in_proj_ba as [b_g (r) | a_g (r)]. Gather them into the un-grouped order.
    const int64_t group = 2 * dk + 2 * r * dv;
    std::vector<Range> q_rows, k_rows, v_rows, z_rows, b_rows, a_rows;
    for (int64_t g = kh.begin; g < kh.end; ++g) {
      q_rows.push_back({g * group, g * group + dk});
      k_rows.push_back({g * group + dk, g * group + 2 * dk});
      v_rows.push_back({g * group + 2 * dk, g * group + 2 * dk + r * dv});
      z_rows.push_back({g * group + 2 * dk + r * dv, (g + 1) * group});
      b_rows.push_back({g * 2 * r, g * 2 * r + r});
      a_rows.push_back({g * 2 * r + r, (g + 1) * 2 * r});
    }
    std::vector<Range> qkv_rows = q_rows;
    qkv_rows.insert(qkv_rows.end(), k_rows.begin(), k_rows.end());
    qkv_rows.insert(qkv_rows.end(), v_rows.begin(), v_rows.end());
    const std::vector<int64_t> qkvz_shape = {2 * key_dim + 2 * value_dim, H}, ba_shape = {2 * la.num_value_heads, H};
    w.in_qkv = loader.matrix(Split::kColumn, {.tensor = p + "in_proj_qkvz.weight", .role = TensorRole::kLinearAttention,
                                              .shape = qkvz_shape, .rows = qkv_rows});
    w.in_z = loader.matrix(Split::kColumn, {.tensor = p + "in_proj_qkvz.weight", .role = TensorRole::kLinearAttention,
                                            .shape = qkvz_shape, .rows = z_rows});
    w.in_b = loader.matrix(Split::kColumn, {.tensor = p + "in_proj_ba.weight", .role = TensorRole::kLinearAttention,
                                            .shape = ba_shape, .rows = b_rows});
    w.in_a = loader.matrix(Split::kColumn, {.tensor = p + "in_proj_ba.weight", .role = TensorRole::kLinearAttention,
                                            .shape = ba_shape, .rows = a_rows});
  }
  // conv1d channels follow [q | k | v]; HF [C, 1, K] and MLX [C, K, 1] are both channel-major.
  const int64_t K = la.conv_kernel;
  const std::string conv_name = p + "conv1d.weight";
  const std::vector<int64_t> conv_shape =
      mlx_conv_layout ? std::vector<int64_t>{la.conv_dim(), K, 1} : std::vector<int64_t>{la.conv_dim(), 1, K};
  w.conv = loader.vector(TensorRole::kLinearAttention, conv_name, conv_shape,
                         {kh.scaled(dk * K), kh.scaled(dk * K).shifted(key_dim * K),
                          vh.scaled(dv * K).shifted(2 * key_dim * K)});
  w.a_log = loader.vector(TensorRole::kLinearAttention, p + "A_log", {la.num_value_heads}, {vh});
  w.dt_bias = loader.vector(TensorRole::kLinearAttention, p + "dt_bias", {la.num_value_heads}, {vh});
  w.norm = loader.vector(TensorRole::kNorm, p + "norm.weight", {dv});
  w.out_proj = loader.matrix(Split::kRow, {.tensor = p + "out_proj.weight", .role = TensorRole::kLinearAttention,
                                           .shape = {H, value_dim}, .cols = vh.scaled(dv)});
  return w;
}

void deltanet_forward(const DeltaNetWeights& w, float eps, const float* x, int64_t T,
                      std::span<const RowSegment> segments, float* out, ThreadPool& pool) {
  const int64_t C = w.channels(), kh = w.key_heads, vh = w.value_heads, dk = w.dk, dv = w.dv;
  const int64_t r = vh / kh, key_width = kh * dk, value_width = vh * dv;
  std::vector<float> qkv(static_cast<size_t>(T * C)), conv_out(static_cast<size_t>(T * C)),
      z(static_cast<size_t>(T * value_width)), b(static_cast<size_t>(T * vh)), a(static_cast<size_t>(T * vh));
  const MatmulJob projections[] = {{&w.in_qkv, x, T, qkv.data()}, {&w.in_z, x, T, z.data()},
                                   {&w.in_b, x, T, b.data()}, {&w.in_a, x, T, a.data()}};
  matmul_jobs(projections, pool);

  for (const RowSegment& seg : segments) {
    LayerState& state = *seg.state;
    if (state.conv.empty()) state.conv.assign(static_cast<size_t>((w.kernel - 1) * C), 0.0f);
    if (state.recurrent.empty()) state.recurrent.assign(static_cast<size_t>(vh * dk * dv), 0.0f);
  }
  // Everything after the projections runs per (segment, key head) on the pool: its q/k channels
  // and the v channels of its r value heads are convolved, normalised and gated there, then each
  // value head's delta rule and gated norm. Channels, heads and sequences are independent, and
  // this keeps the elementwise work off the single-threaded path between projections.
  // q, k: L2-normalised per head (eps 1e-6), q scaled by dk^-0.5. beta = sigmoid(b),
  // g = -exp(A_log) * softplus(a + dt_bias) (log-decay, ≤ 0).
  const float q_scale = 1.0f / std::sqrt(static_cast<float>(dk));
  std::vector<float> core(static_cast<size_t>(T * value_width));
  const int64_t n_segments = static_cast<int64_t>(segments.size());
  pool.parallel_for(n_segments * kh, [&](int64_t item0, int64_t item1, int) {
    for (int64_t item = item0; item < item1; ++item) {
      const RowSegment& seg = segments[item / kh];
      const int64_t i = item % kh, n = seg.n_rows, row0 = seg.first_row;
      LayerState& state = *seg.state;
      const int64_t ranges[3][2] = {{i * dk, (i + 1) * dk},
                                    {key_width + i * dk, key_width + (i + 1) * dk},
                                    {2 * key_width + i * r * dv, 2 * key_width + (i + 1) * r * dv}};
      for (const auto& range : ranges)
        causal_conv1d_silu_range(w.conv.data(), w.kernel, state.conv.data(), qkv.data() + row0 * C, n, C, range[0],
                                 range[1], conv_out.data() + row0 * C);
      for (int64_t t = row0; t < row0 + n; ++t) {
        float* q = conv_out.data() + t * C + i * dk;
        l2_norm(q, dk, 1e-6f);
        l2_norm(q + key_width, dk, 1e-6f);
        for (int64_t c = 0; c < dk; ++c) q[c] *= q_scale;
      }
      for (int64_t j = i * r; j < (i + 1) * r; ++j) {  // value head j reads key head j // r (repeat_interleave)
        for (int64_t t = row0; t < row0 + n; ++t) {
          b[t * vh + j] = sigmoid(b[t * vh + j]);
          a[t * vh + j] = -std::exp(w.a_log[j]) * softplus(a[t * vh + j] + w.dt_bias[j]);
        }
        const DeltaRuleHead head{.q = conv_out.data() + row0 * C + i * dk, .q_stride = C,
                                 .k = conv_out.data() + row0 * C + key_width + i * dk, .k_stride = C,
                                 .v = conv_out.data() + row0 * C + 2 * key_width + j * dv, .v_stride = C,
                                 .g = a.data() + row0 * vh + j, .beta = b.data() + row0 * vh + j, .gate_stride = vh,
                                 .o = core.data() + row0 * value_width + j * dv, .o_stride = value_width, .dk = dk, .dv = dv};
        float* S = state.recurrent.data() + j * dk * dv;
        if (n == 1) delta_rule_recurrent(head, n, S);
        else delta_rule_chunked(head, n, S);
        for (int64_t t = row0; t < row0 + n; ++t) {
          float* o = core.data() + t * value_width + j * dv;
          gated_rms_norm(o, z.data() + t * value_width + j * dv, w.norm.data(), o, dv, eps);
        }
      }
    }
  });
  matmul(w.out_proj, core.data(), T, out, pool);
}

}  // namespace tessera

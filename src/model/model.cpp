#include "model/model.h"

#include "kernels/kernel_set.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "util/error.h"
#include "util/log.h"

#include <chrono>

namespace tessera {

namespace {

struct LoadedParts {
  Matrix embed, lm_head;
  std::vector<float> final_norm;
  std::vector<DecoderLayer> layers;
};

// Loads (or, in dry-run mode, only checks and records) everything this rank holds.
LoadedParts load_parts(WeightLoader& loader, const ModelConfig& c, const ShardPlan& plan, const TensorNames& names,
                       bool log_progress) {
  LoadedParts parts;
  const int64_t V = c.vocab_size, H = c.hidden_size;
  parts.embed = loader.matrix(Split::kReplicated, {.tensor = names.embed(), .role = TensorRole::kEmbedding,
                                                   .shape = {V, H}});
  const std::string head = names.lm_head.empty() ? names.embed() : names.lm_head;
  parts.lm_head = loader.matrix(Split::kColumn, {.tensor = head, .role = TensorRole::kLmHead,
                                                 .shape = {V, H}, .rows = {plan.vocab}});
  const LayerLoadContext ctx{loader, c, plan, names};
  parts.final_norm = loader.vector(TensorRole::kNorm, names.final_norm(), {H}, {}, folds_norm_offset(ctx));
  const LayerLoaderFn load_layer = layer_loader_for(c.family);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    parts.layers.push_back(load_layer(ctx, i));
    if (log_progress && !loader.dry_run()) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      log_info("loaded layer {}/{} ({:.1f} MB on this rank, {:.1f}s)", i + 1, c.num_hidden_layers,
               static_cast<double>(loader.bytes_loaded()) / 1e6, s);
    }
  }
  return parts;
}

}  // namespace

Model::Model(ModelConfig config, Communicator& comm, ThreadPool& pool, ShardPlan plan)
    : config_(std::move(config)), comm_(comm), pool_(pool), plan_(std::move(plan)),
      rope_(config_.rotary_dim(), config_.rope_theta) {}

const char* Model::kernel_set_name() { return kernels().name; }

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir, Communicator& comm, ThreadPool& pool,
                                   const LoadOptions& options) {
  // The kernel set is chosen here, before any weight is read (a bad TESSERA_ISA fails at once).
  log_info("kernels: {}", describe_kernels());
  ModelConfig config = load_model_config(dir);
  ShardPlan plan = ShardPlan::make(config, comm.rank(), comm.size());  // refuses before any read
  // The model keeps the checkpoint mapped: weights whose layout allows it are used in place.
  auto checkpoint = std::make_unique<Checkpoint>(Checkpoint::open(dir));
  const Checkpoint& ckpt = *checkpoint;
  const TensorNames names = detect_tensor_names(ckpt, config);
  {
    WeightLoader check(ckpt, config, /*dry_run=*/true);
    check.set_quantize_bits(options.quantize_bits);
    load_parts(check, config, plan, names, false);
    size_t skipped = 0;
    std::vector<std::string> unknown;
    for (const auto& name : check.unused_tensors()) {
      if (is_skipped_tensor(name)) ++skipped;
      else unknown.push_back(name);
    }
    if (skipped) log_info("skipping {} vision/MTP tensors", skipped);
    if (!unknown.empty())
      log_warn("{} checkpoint tensors are not used by a {} model, e.g. '{}'", unknown.size(), family_name(config.family),
               unknown.front());
  }
  std::unique_ptr<Model> model(new Model(config, comm, pool, plan));
  WeightLoader loader(ckpt, model->config_, /*dry_run=*/false);
  loader.set_quantize_bits(options.quantize_bits, &pool);
  LoadedParts parts = load_parts(loader, model->config_, plan, names, config.num_hidden_layers >= 8);
  model->embed_ = std::move(parts.embed);
  model->lm_head_ = std::move(parts.lm_head);
  model->final_norm_ = std::move(parts.final_norm);
  model->layers_ = std::move(parts.layers);
  model->weight_bytes_ = loader.bytes_loaded();
  model->checkpoint_ = std::move(checkpoint);
  return model;
}

std::vector<std::vector<PlanRecord>> Model::plan_all_ranks(const std::filesystem::path& dir, int world,
                                                          const LoadOptions& options) {
  const ModelConfig config = load_model_config(dir);
  const Checkpoint ckpt = Checkpoint::open(dir);
  const TensorNames names = detect_tensor_names(ckpt, config);
  std::vector<std::vector<PlanRecord>> out;
  for (int r = 0; r < world; ++r) {
    const ShardPlan plan = ShardPlan::make(config, r, world);
    WeightLoader loader(ckpt, config, /*dry_run=*/true);
    loader.set_quantize_bits(options.quantize_bits);
    load_parts(loader, config, plan, names, false);
    out.push_back(loader.plan());
  }
  return out;
}

SequenceState Model::new_sequence() const {
  SequenceState s;
  s.layers.resize(layers_.size());
  return s;
}

void Model::forward(std::span<const int32_t> tokens, SequenceState& state, bool all_positions,
                    std::vector<float>* logits) {
  SequenceState* const states[] = {&state};
  const int64_t counts[] = {static_cast<int64_t>(tokens.size())};
  forward(tokens, states, counts, all_positions, logits);
}

void Model::forward(std::span<const int32_t> tokens, std::span<SequenceState* const> states,
                    std::span<const int64_t> counts, bool all_positions, std::vector<float>* logits) {
  const int64_t T = static_cast<int64_t>(tokens.size()), H = config_.hidden_size, V = config_.vocab_size;
  const float eps = static_cast<float>(config_.rms_norm_eps);
  TS_CHECK(T > 0, "forward with no tokens");
  TS_CHECK(states.size() == counts.size(), "forward: one token count per sequence");
  int64_t counted = 0;
  for (int64_t c : counts) {
    TS_CHECK(c > 0, "forward: every sequence needs at least one token");
    counted += c;
  }
  TS_CHECK(counted == T, "forward: token counts do not add up to the tokens given");
  std::vector<float> h(static_cast<size_t>(T * H)), normed(static_cast<size_t>(T * H)), mixed(static_cast<size_t>(T * H));
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= V) fail("token id {} is outside the vocabulary [0, {})", tokens[t], V);
    matrix_row_f32(embed_, tokens[t], h.data() + t * H);
  }
  std::vector<RowSegment> segments(states.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    const DecoderLayer& layer = layers_[i];
    for (size_t s = 0, row = 0; s < states.size(); row += static_cast<size_t>(counts[s]), ++s)
      segments[s] = {&states[s]->layers[i], static_cast<int64_t>(row), counts[s], states[s]->position};
    for (int64_t t = 0; t < T; ++t) rms_norm(h.data() + t * H, layer.input_norm.data(), normed.data() + t * H, H, eps);
    if (layer.type == LayerType::kFullAttention)
      attention_forward(layer.attention, rope_, eps, normed.data(), T, segments, mixed.data(), pool_);
    else
      deltanet_forward(layer.deltanet, eps, normed.data(), T, segments, mixed.data(), pool_);
    comm_.all_reduce_sum(mixed.data(), T * H);
    for (int64_t j = 0; j < T * H; ++j) h[j] += mixed[j];

    for (int64_t t = 0; t < T; ++t) rms_norm(h.data() + t * H, layer.post_norm.data(), normed.data() + t * H, H, eps);
    if (layer.is_moe) moe_forward(layer.moe, normed.data(), T, mixed.data(), pool_);
    else swiglu_forward(layer.mlp, normed.data(), T, mixed.data(), pool_);
    comm_.all_reduce_sum(mixed.data(), T * H);
    for (int64_t j = 0; j < T * H; ++j) h[j] += mixed[j];
  }
  for (size_t s = 0; s < states.size(); ++s) states[s]->position += counts[s];

  // Final norm and this rank's vocabulary rows of the head (every row, or each sequence's last);
  // rank 0 gathers the full logits.
  std::vector<int64_t> head_rows;
  if (all_positions) {
    for (int64_t t = 0; t < T; ++t) head_rows.push_back(t);
  } else {
    int64_t end = 0;
    for (int64_t c : counts) head_rows.push_back((end += c) - 1);
  }
  const int64_t rows = static_cast<int64_t>(head_rows.size());
  for (int64_t r = 0; r < rows; ++r)
    rms_norm(h.data() + head_rows[r] * H, final_norm_.data(), normed.data() + r * H, H, eps);
  const int64_t local_v = lm_head_.rows;
  std::vector<float> local(static_cast<size_t>(rows * local_v));
  matmul(lm_head_, normed.data(), rows, local.data(), pool_);
  if (comm_.size() == 1) {
    if (logits) *logits = std::move(local);
    return;
  }
  std::vector<int64_t> gather_counts;
  for (int64_t c : plan_.vocab_counts) gather_counts.push_back(c * rows);
  std::vector<float> gathered(comm_.rank() == 0 ? static_cast<size_t>(rows * V) : 0);
  comm_.gather_v(local.data(), gathered.data(), gather_counts, 0);
  if (comm_.rank() != 0 || !logits) return;
  // Gathered layout is [rank][row][V_r]; reorder to [row][V].
  logits->assign(static_cast<size_t>(rows * V), 0.0f);
  int64_t offset = 0, col = 0;
  for (int64_t vr : plan_.vocab_counts) {
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(gathered.data() + offset + r * vr, vr, logits->data() + r * V + col);
    offset += rows * vr;
    col += vr;
  }
}

}  // namespace tessera

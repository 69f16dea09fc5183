// ShardPlan for rank r of N, computed in-process (no mpirun): every split dimension is covered
// once by the ranks in order; value head j stays with key head j / (nv / nk); query heads sit
// with their KV head, which is replicated when N > num_key_value_heads; impossible N is refused
// naming the dimension and the sizes that work. The in_proj_qkv sections are checked on real
// loads: a checkpoint whose rows hold their own row index is loaded for every rank, and the rows
// each rank got are compared with the heads its plan gives it.
#include "io/model_config.h"
#include "io/safetensors.h"
#include "model/gated_deltanet.h"
#include "parallel/shard_plan.h"
#include "util/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

namespace tessera {
namespace {

using nlohmann::json;

// Qwen3.5-MoE with small, distinct head counts: 8 query / 2 KV heads, 4 key / 8 value heads
// (r = 2), key_head_dim 2, value_head_dim 3. World sizes that work: 1, 2, 4.
json tiny_config() {
  return {{"model_type", "qwen3_5_moe"}, {"vocab_size", 1001}, {"hidden_size", 16}, {"num_hidden_layers", 4},
          {"num_attention_heads", 8}, {"num_key_value_heads", 2}, {"head_dim", 8}, {"linear_num_key_heads", 4},
          {"linear_num_value_heads", 8}, {"linear_key_head_dim", 2}, {"linear_value_head_dim", 3},
          {"linear_conv_kernel_dim", 4}, {"num_experts", 4}, {"num_experts_per_tok", 2},
          {"moe_intermediate_size", 8}, {"shared_expert_intermediate_size", 16}};
}

ModelConfig config_of(const json& j) { return parse_model_config(j.dump(), "config.json"); }

std::string refusal(const ModelConfig& c, int rank, int world) {
  try {
    ShardPlan::make(c, rank, world);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The ranks' ranges, taken in rank order, tile [0, n) with equal pieces.
void expect_even_tiling(const std::vector<Range>& per_rank, int64_t n, const char* what) {
  int64_t next = 0;
  for (size_t r = 0; r < per_rank.size(); ++r) {
    EXPECT_EQ(per_rank[r].begin, next) << what << " rank " << r;
    EXPECT_EQ(per_rank[r].size(), n / static_cast<int64_t>(per_rank.size())) << what << " rank " << r;
    next = per_rank[r].end;
  }
  EXPECT_EQ(next, n) << what;
}

TEST(ShardPlan, ValidWorldSizes) {
  EXPECT_EQ(valid_world_sizes(config_of(tiny_config())), (std::vector<int>{1, 2, 4}));
}

TEST(ShardPlan, EverySplitDimensionIsTiledOnce) {
  const ModelConfig c = config_of(tiny_config());
  for (int world : valid_world_sizes(c)) {
    std::vector<Range> q, lk, lv, moe, shared;
    int64_t vocab_next = 0;
    for (int rank = 0; rank < world; ++rank) {
      const ShardPlan p = ShardPlan::make(c, rank, world);
      EXPECT_EQ(p.rank, rank);
      EXPECT_EQ(p.world, world);
      q.push_back(p.q_heads);
      lk.push_back(p.linear_key_heads);
      lv.push_back(p.linear_value_heads);
      moe.push_back(p.moe_intermediate);
      shared.push_back(p.shared_intermediate);
      // Value head j's key head j / r stays on the same rank.
      const int64_t ratio = c.linear.num_value_heads / c.linear.num_key_heads;
      EXPECT_EQ(p.linear_value_heads.begin, p.linear_key_heads.begin * ratio);
      EXPECT_EQ(p.linear_value_heads.end, p.linear_key_heads.end * ratio);
      // Vocabulary rows: 1001 over N, the first 1001 % N ranks take one extra row.
      EXPECT_EQ(p.vocab.begin, vocab_next);
      EXPECT_EQ(p.vocab.size(), 1001 / world + (rank < 1001 % world ? 1 : 0));
      EXPECT_EQ(static_cast<int>(p.vocab_counts.size()), world);
      EXPECT_EQ(p.vocab_counts[rank], p.vocab.size());
      vocab_next = p.vocab.end;
    }
    EXPECT_EQ(vocab_next, 1001);
    expect_even_tiling(q, 8, "q_heads");
    expect_even_tiling(lk, 4, "linear_key_heads");
    expect_even_tiling(lv, 8, "linear_value_heads");
    expect_even_tiling(moe, 8, "moe_intermediate");
    expect_even_tiling(shared, 16, "shared_intermediate");
  }
}

TEST(ShardPlan, QueryHeadsSitWithTheirKvHead) {
  const ModelConfig c = config_of(tiny_config());
  const int64_t group = c.num_attention_heads / c.num_key_value_heads;  // query heads per KV head
  for (int world : {1, 2, 4}) {
    std::vector<int> holders(static_cast<size_t>(c.num_key_value_heads), 0);
    for (int rank = 0; rank < world; ++rank) {
      const ShardPlan p = ShardPlan::make(c, rank, world);
      for (int64_t h = p.q_heads.begin; h < p.q_heads.end; ++h) {
        const int64_t kv = h / group;
        EXPECT_TRUE(kv >= p.kv_heads.begin && kv < p.kv_heads.end)
            << "world " << world << " rank " << rank << " query head " << h << " needs KV head " << kv;
      }
      for (int64_t kv = p.kv_heads.begin; kv < p.kv_heads.end; ++kv) ++holders[static_cast<size_t>(kv)];
    }
    // 2 KV heads: split for N <= 2, each replicated on N / 2 ranks for N = 4.
    for (int n : holders) EXPECT_EQ(n, world <= 2 ? 1 : world / 2) << "world " << world;
  }
  // Replication: rank r holds KV head r / (N / nkv).
  for (int rank = 0; rank < 4; ++rank) {
    const ShardPlan p = ShardPlan::make(c, rank, 4);
    EXPECT_EQ(p.kv_heads.begin, rank / 2);
    EXPECT_EQ(p.kv_heads.size(), 1);
  }
}

TEST(ShardPlan, RefusesImpossibleWorldSizes) {
  const ModelConfig c = config_of(tiny_config());
  std::string e = refusal(c, 0, 3);
  EXPECT_NE(e.find("cannot split this qwen3_5_moe model across 3 ranks"), std::string::npos) << e;
  EXPECT_NE(e.find("num_attention_heads = 8 is not divisible by 3"), std::string::npos) << e;
  EXPECT_NE(e.find("world sizes that work: 1, 2, 4"), std::string::npos) << e;
  e = refusal(c, 0, 8);  // heads divide, the 4 linear key heads do not
  EXPECT_NE(e.find("linear_num_key_heads = 4 is not divisible by 8"), std::string::npos) << e;

  json j = tiny_config();  // KV heads that neither divide nor are a multiple of N
  j["model_type"] = "qwen3_moe";
  j["num_attention_heads"] = 24;
  j["num_key_value_heads"] = 4;
  j["moe_intermediate_size"] = 48;
  e = refusal(config_of(j), 0, 6);
  EXPECT_NE(e.find("num_key_value_heads = 4 neither divides nor is a multiple of 6"), std::string::npos) << e;

  EXPECT_NE(refusal(c, 2, 2).find("invalid rank 2 of world size 2"), std::string::npos);
  EXPECT_NE(refusal(c, 0, 0).find("invalid rank 0 of world size 0"), std::string::npos);
}

// Writes a safetensors file of F32 tensors whose every element holds its row index.
using TensorShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

void write_row_indexed(const std::filesystem::path& path, const TensorShapes& tensors) {
  json header = json::object();
  std::vector<float> data;
  for (const auto& [name, shape] : tensors) {
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    const int64_t cols = shape.size() >= 2 ? shape.back() : 1;
    const size_t begin = data.size() * 4;
    for (int64_t i = 0; i < numel; ++i) data.push_back(static_cast<float>(i / cols));
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {begin, data.size() * 4}}};
  }
  const std::string h = header.dump();
  const uint64_t n = h.size();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * 4));
}

TEST(ShardPlan, InProjQkvSectionsCoverEveryRowOnceAndAlignHeads) {
  const ModelConfig c = config_of(tiny_config());
  const auto& la = c.linear;
  const int64_t H = c.hidden_size, dk = la.key_head_dim, dv = la.value_head_dim, K = la.conv_kernel;
  const int64_t key_dim = la.key_dim(), conv_dim = la.conv_dim();
  const auto dir = std::filesystem::temp_directory_path() / ("tessera-shard-plan-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string p = "layers.0.linear_attn.";
  write_row_indexed(dir / "model.safetensors",
                    {{p + "in_proj_qkv.weight", {conv_dim, H}}, {p + "in_proj_z.weight", {la.value_dim(), H}},
                     {p + "in_proj_b.weight", {la.num_value_heads, H}},
                     {p + "in_proj_a.weight", {la.num_value_heads, H}},
                     {p + "conv1d.weight", {conv_dim, 1, K}}, {p + "A_log", {la.num_value_heads}},
                     {p + "dt_bias", {la.num_value_heads}}, {p + "norm.weight", {dv}},
                     {p + "out_proj.weight", {H, la.value_dim()}}});
  const Checkpoint ckpt = Checkpoint::open(dir);

  for (int world : {1, 2, 4}) {
    std::multiset<int64_t> rows_seen;
    for (int rank = 0; rank < world; ++rank) {
      const ShardPlan plan = ShardPlan::make(c, rank, world);
      WeightLoader loader(ckpt, c, /*dry_run=*/false);
      const DeltaNetWeights w = load_deltanet(loader, c, plan, p, DeltaNetProjections::kSeparate, false);
      const int64_t kh = plan.linear_key_heads.size(), vh = plan.linear_value_heads.size();
      ASSERT_EQ(w.in_qkv.rows, 2 * kh * dk + vh * dv);
      for (int64_t r = 0; r < w.in_qkv.rows; ++r) {
        const auto row = static_cast<int64_t>(w.in_qkv.f32_row(r)[0]);
        rows_seen.insert(row);
        // Which section and head the source row belongs to, and whether this rank owns that head.
        if (r < kh * dk) {
          EXPECT_LT(row, key_dim) << "q section";
          EXPECT_EQ(row / dk, plan.linear_key_heads.begin + r / dk) << "q row " << r;
        } else if (r < 2 * kh * dk) {
          EXPECT_GE(row, key_dim) << "k section";
          EXPECT_EQ((row - key_dim) / dk, plan.linear_key_heads.begin + (r - kh * dk) / dk) << "k row " << r;
        } else {
          EXPECT_GE(row, 2 * key_dim) << "v section";
          EXPECT_EQ((row - 2 * key_dim) / dv, plan.linear_value_heads.begin + (r - 2 * kh * dk) / dv) << "v row " << r;
        }
      }
      // conv1d channels follow the same sections.
      ASSERT_EQ(static_cast<int64_t>(w.conv.size()), w.in_qkv.rows * K);
      for (int64_t ch = 0; ch < w.in_qkv.rows; ++ch)
        EXPECT_EQ(w.conv[static_cast<size_t>(ch * K)], w.in_qkv.f32_row(ch)[0]) << "conv channel " << ch;
    }
    ASSERT_EQ(static_cast<int64_t>(rows_seen.size()), conv_dim) << "world " << world;
    int64_t expected = 0;
    for (int64_t row : rows_seen) EXPECT_EQ(row, expected++) << "world " << world;  // each row exactly once
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera

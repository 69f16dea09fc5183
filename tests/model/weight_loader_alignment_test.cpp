// A checkpoint whose safetensors header length leaves the data section unaligned (HF's writer
// pads the header to 8 bytes; not every writer does) must still load the right values, without
// viewing the mapping as misaligned float / bf16 arrays (undefined behaviour that UBSan reports):
// the loader copies such tensors and keeps the zero-copy view for aligned ones.
#include "io/model_config.h"
#include "io/safetensors.h"
#include "model/weight_loader.h"
#include "parallel/shard_plan.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace tessera {
namespace {

using nlohmann::json;

constexpr int64_t kRows = 3, kCols = 8;

float value_at(int64_t r, int64_t c) { return static_cast<float>(r) * 10.0F + static_cast<float>(c) * 0.5F; }

// bf16 of value_at: these values have at most 8 significant bits, so the top half of the f32 is exact.
uint16_t bf16_bits(float v) {
  uint32_t u = 0;
  std::memcpy(&u, &v, 4);
  return static_cast<uint16_t>(u >> 16);
}

// One F32 tensor "w32" and one BF16 tensor "w16", both [kRows, kCols]; the header is padded with
// spaces to `header_bytes`, so the data section starts at file offset 8 + header_bytes.
void write_checkpoint(const std::filesystem::path& dir, size_t header_bytes) {
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> data;
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t c = 0; c < kCols; ++c) {
      const float v = value_at(r, c);
      const auto* p = reinterpret_cast<const uint8_t*>(&v);
      data.insert(data.end(), p, p + 4);
    }
  const size_t f32_bytes = data.size();
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t c = 0; c < kCols; ++c) {
      const uint16_t b = bf16_bits(value_at(r, c));
      const auto* p = reinterpret_cast<const uint8_t*>(&b);
      data.insert(data.end(), p, p + 2);
    }
  const json header = {
      {"w32", {{"dtype", "F32"}, {"shape", {kRows, kCols}}, {"data_offsets", {0, f32_bytes}}}},
      {"w16", {{"dtype", "BF16"}, {"shape", {kRows, kCols}}, {"data_offsets", {f32_bytes, data.size()}}}}};
  std::string h = header.dump();
  ASSERT_LE(h.size(), header_bytes);
  h.resize(header_bytes, ' ');
  const uint64_t n = h.size();
  std::ofstream out(dir / "model.safetensors", std::ios::binary);
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

ModelConfig small_config() {
  const json j = {{"model_type", "qwen3_moe"}, {"vocab_size", 16}, {"hidden_size", kCols}, {"num_hidden_layers", 1},
                  {"num_attention_heads", 2}, {"num_key_value_heads", 1}, {"head_dim", 4}, {"num_experts", 2},
                  {"num_experts_per_tok", 1}, {"moe_intermediate_size", 8}};
  return parse_model_config(j.dump(), "config.json");
}

struct Loaded {
  bool f32_viewed, bf16_viewed;
};

// Loads both tensors, checks every value, and says which were viewed in place.
Loaded load_and_check(size_t header_bytes) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tessera-align-" + std::to_string(::getpid()) + "-" + std::to_string(header_bytes));
  write_checkpoint(dir, header_bytes);
  const ModelConfig config = small_config();
  const Checkpoint ckpt = Checkpoint::open(dir);
  WeightLoader loader(ckpt, config, /*dry_run=*/false);
  const Matrix m32 = loader.matrix(Split::kReplicated, SourceSlice{"w32", TensorRole::kLmHead, {kRows, kCols}});
  const Matrix m16 = loader.matrix(Split::kReplicated, SourceSlice{"w16", TensorRole::kLmHead, {kRows, kCols}});
  EXPECT_EQ(m32.format, WeightFormat::kF32);
  EXPECT_EQ(m16.format, WeightFormat::kBF16);
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t c = 0; c < kCols; ++c) {
      float got32 = 0;
      uint16_t got16 = 0;
      std::memcpy(&got32, m32.storage() + (r * kCols + c) * 4, 4);
      std::memcpy(&got16, m16.storage() + (r * kCols + c) * 2, 2);
      EXPECT_EQ(got32, value_at(r, c)) << "f32 [" << r << "," << c << "] header " << header_bytes;
      EXPECT_EQ(got16, bf16_bits(value_at(r, c))) << "bf16 [" << r << "," << c << "] header " << header_bytes;
    }
  const auto aligned = [](const Matrix& m, size_t element) {
    return reinterpret_cast<uintptr_t>(m.storage()) % element == 0;
  };
  EXPECT_TRUE(aligned(m32, 4)) << "f32 weights handed to the kernels misaligned, header " << header_bytes;
  EXPECT_TRUE(aligned(m16, 2)) << "bf16 weights handed to the kernels misaligned, header " << header_bytes;
  const Loaded result{m32.view != nullptr, m16.view != nullptr};
  std::filesystem::remove_all(dir);
  return result;
}

TEST(WeightLoaderAlignment, PaddedHeaderIsViewedInPlace) {
  const Loaded l = load_and_check(256);  // data at offset 264: 8-byte aligned, as HF writes it
  EXPECT_TRUE(l.f32_viewed);
  EXPECT_TRUE(l.bf16_viewed);
}

TEST(WeightLoaderAlignment, HeaderOffByTwoCopiesFloatButViewsBf16) {
  const Loaded l = load_and_check(258);  // data at 266: 2-byte but not 4-byte aligned
  EXPECT_FALSE(l.f32_viewed);
  EXPECT_TRUE(l.bf16_viewed);
}

TEST(WeightLoaderAlignment, OddHeaderCopiesEverything) {
  const Loaded l = load_and_check(257);  // data at 265: odd
  EXPECT_FALSE(l.f32_viewed);
  EXPECT_FALSE(l.bf16_viewed);
}

}  // namespace
}  // namespace tessera

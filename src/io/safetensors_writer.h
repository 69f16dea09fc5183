// Writing safetensors checkpoints (the format src/io/safetensors.h reads): u64 little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, "__metadata__": {...}}
// padded with spaces to a multiple of 8, then the tensors back to back (the format allows no
// gaps). The header is written first, from the tensors' dtypes and shapes, so the data can then
// arrive in any order and in pieces: a converter streams a large tensor block by block instead of
// holding it in memory. Within a file tensors are ordered by element size (largest first), then
// name, so every tensor starts at an offset aligned to its element size.
#pragma once

#include "tensor/dtype.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessera {

struct TensorSpec {
  std::string name;
  DType dtype = DType::kBF16;
  std::vector<int64_t> shape;

  size_t nbytes() const;
};

class SafetensorsWriter {
 public:
  // Creates (truncates) `path` and writes the header. Throws tessera::Error on a duplicate name or
  // an I/O error, naming the file.
  SafetensorsWriter(const std::filesystem::path& path, std::vector<TensorSpec> tensors,
                    const std::map<std::string, std::string>& metadata);
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  bool holds(const std::string& name) const { return layout_.count(name) != 0; }
  // Writes `nbytes` bytes at byte `offset` within tensor `name`'s data.
  void write(const std::string& name, size_t offset, const void* data, size_t nbytes);
  // Checks that every tensor received exactly its size in bytes, then flushes and closes.
  void close();

 private:
  struct Slot {
    size_t begin = 0;  // from the start of the file
    size_t nbytes = 0;
    size_t written = 0;
  };
  std::filesystem::path path_;
  std::ofstream out_;
  std::map<std::string, Slot> layout_;
  bool closed_ = false;
};

// A whole checkpoint directory: tensors assigned, in the given order, to shards of at most
// `max_shard_bytes` (a tensor larger than that gets a shard of its own), named as mlx-lm and
// Hugging Face name them (`model.safetensors` alone, else `model-0000i-of-0000K.safetensors`),
// plus `model.safetensors.index.json` (weight_map and metadata.total_size), as mlx-lm writes.
class CheckpointWriter {
 public:
  static constexpr size_t kDefaultMaxShardBytes = size_t{5} << 30;  // mlx-lm's 5 GB

  CheckpointWriter(const std::filesystem::path& dir, const std::vector<TensorSpec>& tensors,
                   const std::map<std::string, std::string>& metadata, size_t max_shard_bytes = kDefaultMaxShardBytes);
  void write(const std::string& name, size_t offset, const void* data, size_t nbytes);
  void close();  // closes every shard (checking each is complete), then writes the index
  size_t total_bytes() const { return total_bytes_; }
  size_t shard_count() const { return shards_.size(); }

 private:
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<SafetensorsWriter>> shards_;
  std::map<std::string, size_t> shard_of_;  // tensor name -> index into shards_
  std::vector<std::string> shard_names_;
  size_t total_bytes_ = 0;
};

}  // namespace tessera

// safetensors checkpoints, memory-mapped: one file or several with model.safetensors.index.json.
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {...}}, then the data section; offsets are
// relative to the start of the data section.
#pragma once

#include "tensor/dtype.h"
#include "util/mapped_file.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessera {

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapping
  size_t nbytes = 0;
  size_t file_offset = 0;         // of data, from the start of the file
  const MappedFile* file = nullptr;

  int64_t numel() const;
  float element_f32(int64_t i) const;  // element i (row-major) of an F32, BF16 or F16 tensor; 0 otherwise
  std::string shape_string() const;  // "[256, 64]"
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);  // validates the header
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const MappedFile& file() const { return *file_; }

 private:
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, TensorInfo> tensors_;
};

class Checkpoint {
 public:
  // Opens <dir>/model.safetensors.index.json if present, else <dir>/model.safetensors, else
  // every *.safetensors in dir.
  static Checkpoint open(const std::filesystem::path& dir);

  const TensorInfo* find(const std::string& name) const;
  // Throws tessera::Error naming the tensor and the checkpoint directory when absent.
  const TensorInfo& get(const std::string& name) const;
  const std::map<std::string, const TensorInfo*>& all() const { return index_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorInfo*> index_;
};

}  // namespace tessera

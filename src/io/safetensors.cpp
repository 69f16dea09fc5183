#include "io/safetensors.h"

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <set>

namespace tessera {

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

float TensorInfo::element_f32(int64_t i) const {
  uint16_t half = 0;
  switch (dtype) {
    case DType::kF32: { float v; std::memcpy(&v, data + i * 4, 4); return v; }
    case DType::kBF16: std::memcpy(&half, data + i * 2, 2); return bf16_to_f32(half);
    case DType::kF16: std::memcpy(&half, data + i * 2, 2); return f16_to_f32(half);
    default: return 0;
  }
}

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path)
    : file_(std::make_unique<MappedFile>(path)) {
  const auto bytes = file_->bytes();
  const std::string where = path.string();
  if (bytes.size() < 8) fail("{}: not a safetensors file (only {} bytes, no header length)", where, bytes.size());
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > bytes.size() - 8)
    fail("{}: header length {} runs past the end of the file ({} bytes): truncated or not safetensors",
         where, header_len, bytes.size());
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<ptrdiff_t>(header_len));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: header is not valid JSON: {}", where, e.what());
  }
  if (!header.is_object()) fail("{}: header JSON is not an object", where);
  const size_t data_start = 8 + header_len;
  const size_t data_size = bytes.size() - data_start;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& entry = it.value();
    TensorInfo info;
    info.name = it.key();
    info.file = file_.get();
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      fail("{}: tensor '{}' header entry needs dtype, shape and data_offsets", where, info.name);
    if (!entry["dtype"].is_string() || !parse_safetensors_dtype(entry["dtype"].get<std::string>(), &info.dtype))
      fail("{}: tensor '{}' has unsupported dtype {}", where, info.name, entry["dtype"].dump());
    if (!entry["shape"].is_array()) fail("{}: tensor '{}' shape is not a list", where, info.name);
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        fail("{}: tensor '{}' has an invalid shape {}", where, info.name, entry["shape"].dump());
      info.shape.push_back(d.get<int64_t>());
    }
    const auto& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail("{}: tensor '{}' data_offsets must be [begin, end]", where, info.name);
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size)
      fail("{}: tensor '{}' data [{}, {}) lies outside the data section ({} bytes): file truncated?",
           where, info.name, begin, end, data_size);
    info.nbytes = end - begin;
    const uint64_t expected = static_cast<uint64_t>(info.numel()) * dtype_size(info.dtype);
    if (info.nbytes != expected)
      fail("{}: tensor '{}' holds {} bytes but {} {} needs {}", where, info.name, info.nbytes,
           dtype_name(info.dtype), info.shape_string(), expected);
    info.file_offset = data_start + begin;
    info.data = bytes.data() + info.file_offset;
    tensors_.emplace(info.name, std::move(info));
  }
}

Checkpoint Checkpoint::open(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  Checkpoint ckpt;
  ckpt.dir_ = dir;
  if (!fs::is_directory(dir)) fail("model directory {} does not exist", dir.string());
  std::vector<fs::path> paths;
  const fs::path index_path = dir / "model.safetensors.index.json";
  nlohmann::json weight_map;
  if (fs::exists(index_path)) {
    std::ifstream in(index_path);
    nlohmann::json index;
    try {
      index = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail("{}: not valid JSON: {}", index_path.string(), e.what());
    }
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      fail("{}: missing object 'weight_map'", index_path.string());
    weight_map = index["weight_map"];
    std::set<std::string> names;
    for (auto it = weight_map.begin(); it != weight_map.end(); ++it) {
      if (!it.value().is_string()) fail("{}: weight_map['{}'] is not a file name", index_path.string(), it.key());
      names.insert(it.value().get<std::string>());
    }
    for (const auto& n : names) paths.push_back(dir / n);
  } else if (fs::exists(dir / "model.safetensors")) {
    paths.push_back(dir / "model.safetensors");
  } else {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".safetensors") paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
  }
  if (paths.empty()) fail("{}: no model.safetensors, index or *.safetensors file", dir.string());
  for (const auto& p : paths) {
    if (!fs::exists(p)) fail("{}: shard {} named in the index does not exist", dir.string(), p.filename().string());
    ckpt.files_.push_back(std::make_unique<SafetensorsFile>(p));
    for (const auto& [name, info] : ckpt.files_.back()->tensors()) {
      if (ckpt.index_.count(name))
        fail("{}: tensor '{}' appears in both {} and {}", dir.string(), name,
             ckpt.index_[name]->file->path().filename().string(), p.filename().string());
      ckpt.index_[name] = &info;
    }
  }
  for (auto it = weight_map.begin(); it != weight_map.end(); ++it) {
    auto found = ckpt.index_.find(it.key());
    if (found == ckpt.index_.end())
      fail("{}: index maps '{}' to {} but that file does not hold it", dir.string(), it.key(),
           it.value().get<std::string>());
  }
  return ckpt;
}

const TensorInfo* Checkpoint::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

const TensorInfo& Checkpoint::get(const std::string& name) const {
  const TensorInfo* info = find(name);
  if (!info) fail("checkpoint {}: missing tensor '{}'", dir_.string(), name);
  return *info;
}

}  // namespace tessera

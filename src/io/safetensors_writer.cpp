#include "io/safetensors_writer.h"

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace tessera {

size_t TensorSpec::nbytes() const {
  size_t n = dtype_size(dtype);
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

SafetensorsWriter::SafetensorsWriter(const std::filesystem::path& path, std::vector<TensorSpec> tensors,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path) {
  std::stable_sort(tensors.begin(), tensors.end(), [](const TensorSpec& a, const TensorSpec& b) {
    const size_t sa = dtype_size(a.dtype), sb = dtype_size(b.dtype);
    return sa != sb ? sa > sb : a.name < b.name;
  });
  // nlohmann::ordered_json keeps the data order in the header, which makes files easy to read by eye.
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  std::vector<std::pair<std::string, Slot>> slots;
  for (const TensorSpec& t : tensors) {
    if (t.name == "__metadata__" || header.contains(t.name)) fail("{}: tensor name '{}' given twice", path.string(), t.name);
    const size_t n = t.nbytes();
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + n}}};
    slots.push_back({t.name, Slot{offset, n, 0}});
    offset += n;
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');  // data section starts 8-byte aligned
  const size_t data_start = 8 + text.size();
  for (auto& [name, slot] : slots) {
    slot.begin += data_start;
    layout_.emplace(name, slot);
  }
  out_.open(path, std::ios::binary | std::ios::trunc);
  if (!out_) fail("{}: cannot create file", path.string());
  const uint64_t len = text.size();
  char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<char>((len >> (8 * i)) & 0xff);  // little-endian
  out_.write(len_bytes, 8);
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out_) fail("{}: write failed (disk full?)", path.string());
}

SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::write(const std::string& name, size_t offset, const void* data, size_t nbytes) {
  auto it = layout_.find(name);
  TS_CHECK(it != layout_.end() && !closed_, "SafetensorsWriter::write of a tensor this file does not hold");
  Slot& slot = it->second;
  TS_CHECK(offset + nbytes <= slot.nbytes, "SafetensorsWriter::write past the end of a tensor");
  out_.seekp(static_cast<std::streamoff>(slot.begin + offset));
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(nbytes));
  if (!out_) fail("{}: writing tensor '{}' failed (disk full?)", path_.string(), name);
  slot.written += nbytes;
}

void SafetensorsWriter::close() {
  if (closed_) return;
  for (const auto& [name, slot] : layout_)
    if (slot.written != slot.nbytes)
      fail("{}: tensor '{}' got {} of its {} bytes", path_.string(), name, slot.written, slot.nbytes);
  out_.close();
  if (!out_) fail("{}: closing the file failed (disk full?)", path_.string());
  closed_ = true;
}

CheckpointWriter::CheckpointWriter(const std::filesystem::path& dir, const std::vector<TensorSpec>& tensors,
                                   const std::map<std::string, std::string>& metadata, size_t max_shard_bytes)
    : dir_(dir) {
  std::vector<std::vector<TensorSpec>> groups;
  size_t current = 0;
  for (const TensorSpec& t : tensors) {
    const size_t n = t.nbytes();
    if (groups.empty() || (current > 0 && current + n > max_shard_bytes)) {
      groups.emplace_back();
      current = 0;
    }
    groups.back().push_back(t);
    current += n;
    total_bytes_ += n;
  }
  if (groups.empty()) fail("{}: no tensors to write", dir.string());
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string file = groups.size() == 1 ? std::string("model.safetensors")
                                                : fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, groups.size());
    for (const TensorSpec& t : groups[i]) shard_of_[t.name] = i;
    shard_names_.push_back(file);
    shards_.push_back(std::make_unique<SafetensorsWriter>(dir / file, groups[i], metadata));
  }
}

void CheckpointWriter::write(const std::string& name, size_t offset, const void* data, size_t nbytes) {
  auto it = shard_of_.find(name);
  TS_CHECK(it != shard_of_.end(), "CheckpointWriter::write of an undeclared tensor");
  shards_[it->second]->write(name, offset, data, nbytes);
}

void CheckpointWriter::close() {
  for (auto& shard : shards_) shard->close();
  nlohmann::ordered_json weight_map;
  for (const auto& [name, shard] : shard_of_) weight_map[name] = shard_names_[shard];
  const nlohmann::ordered_json index = {{"metadata", {{"total_size", total_bytes_}}}, {"weight_map", weight_map}};
  const auto path = dir_ / "model.safetensors.index.json";
  std::ofstream out(path);
  out << index.dump(4) << "\n";
  out.close();
  if (!out) fail("{}: write failed", path.string());
}

}  // namespace tessera

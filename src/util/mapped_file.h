// A read-only memory-mapped file. Weights are sliced straight out of the mapping; after a
// tensor has been copied into its packed in-memory form the caller releases those pages
// (release_range) so they do not stay in the process's resident set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace tessera {

class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);  // throws tessera::Error
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }
  size_t size() const { return size_; }

  // Drops the page-cache pages of [offset, offset+length) from this process's mapping.
  void release_range(size_t offset, size_t length) const;

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tessera

// Helpers shared by the tokenizer tests: paths to the reference data and one Qwen3 tokenizer
// loaded once per test binary (loading parses an 11 MB JSON file).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "tokenizer/tokenizer.h"

namespace tessera::test {

// The repository's test fixtures (tests/data, see SOURCES.md there).
inline std::filesystem::path data_dir() { return TESSERA_TEST_DATA_DIR; }

inline std::filesystem::path qwen3_dir() { return data_dir() / "tokenizers/qwen3"; }

inline const Tokenizer& qwen3() {
  static const Tokenizer tokenizer = Tokenizer::load(qwen3_dir());
  return tokenizer;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("tessera_tok_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& file, const std::string& text) const {
    std::ofstream(path_ / file, std::ios::binary) << text;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace tessera::test

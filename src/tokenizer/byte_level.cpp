#include "tokenizer/byte_level.h"

#include <array>

#include "util/utf8.h"

namespace tessera::byte_level {
namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int, 512> to_byte{};  // index: code point < 512; -1 where not in the alphabet
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    t.to_byte.fill(-1);
    char32_t next_extra = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      t.to_char[b] = printable ? char32_t(b) : next_extra++;
      t.to_byte[t.to_char[b]] = b;
    }
    return t;
  }();
  return t;
}

}  // namespace

char32_t byte_to_char(unsigned char b) { return tables().to_char[b]; }

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) utf8::append_scalar(byte_to_char(b), out);
  return out;
}

std::optional<std::string> decode(std::string_view token) {
  const Tables& t = tables();
  std::string out;
  out.reserve(token.size());
  for (size_t pos = 0; pos < token.size();) {
    size_t length = 0;
    const char32_t cp = utf8::decode_at(token, pos, &length);
    if (cp >= t.to_byte.size() || t.to_byte[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(t.to_byte[cp]));
    pos += length;
  }
  return out;
}

std::string decoder_bytes(std::string_view token) {
  if (auto bytes = decode(token)) return *std::move(bytes);
  return std::string(token);
}

}  // namespace tessera::byte_level

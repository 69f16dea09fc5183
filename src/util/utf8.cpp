#include "util/utf8.h"

#include <cstdint>
#include <cstring>

namespace tessera::utf8 {

Chunk next_chunk(std::string_view text, size_t pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const unsigned char b0 = p[pos];
  if (b0 < 0x80) return {1, true, false};

  // Continuation count and the allowed range of the first continuation byte (Table 3-7).
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 == 0xE0) {
    need = 2, lo = 0xA0;
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    need = 2;
  } else if (b0 == 0xED) {
    need = 2, hi = 0x9F;  // excludes surrogates
  } else if (b0 == 0xF0) {
    need = 3, lo = 0x90;  // excludes overlong forms
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    need = 3;
  } else if (b0 == 0xF4) {
    need = 3, hi = 0x8F;  // excludes > U+10FFFF
  } else {
    return {1, false, false};  // 80..BF, C0, C1, F5..FF never start a sequence
  }

  size_t length = 1;
  for (size_t k = 0; k < need; ++k) {
    if (pos + length >= n) return {length, false, true};
    const unsigned char b = p[pos + length];
    if (b < lo || b > hi) return {length, false, false};
    lo = 0x80, hi = 0xBF;
    ++length;
  }
  return {length, true, false};
}

std::optional<size_t> first_invalid_offset(std::string_view text) {
  size_t pos = 0;
  const size_t n = text.size();
  while (pos < n) {
    // ASCII runs are the common case; test eight bytes at a time.
    if (pos + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, text.data() + pos, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        pos += 8;
        continue;
      }
    }
    const Chunk c = next_chunk(text, pos);
    if (!c.valid) return pos;
    pos += c.length;
  }
  return std::nullopt;
}

void append_lossy(std::string_view bytes, std::string& out) {
  size_t pos = 0;
  size_t run_start = 0;  // start of the pending run of valid bytes, copied in one go
  while (pos < bytes.size()) {
    const Chunk c = next_chunk(bytes, pos);
    if (!c.valid) {
      out.append(bytes.substr(run_start, pos - run_start));
      out.append("\xEF\xBF\xBD");  // U+FFFD
      run_start = pos + c.length;
    }
    pos += c.length;
  }
  out.append(bytes.substr(run_start));
}

size_t truncated_tail_length(std::string_view bytes) {
  // A lead byte is never consumed as a continuation, so the last non-continuation byte within
  // the final four starts a chunk of the forward scan; only that chunk can be truncated.
  const size_t n = bytes.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto b = static_cast<unsigned char>(bytes[n - back]);
    if ((b & 0xC0) == 0x80) continue;
    const Chunk c = next_chunk(bytes, n - back);
    return c.truncated ? back : 0;
  }
  return 0;
}

char32_t decode_at(std::string_view text, size_t pos, size_t* length) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + pos;
  if (p[0] < 0x80) {
    *length = 1;
    return p[0];
  }
  if (p[0] < 0xE0) {
    *length = 2;
    return (char32_t(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if (p[0] < 0xF0) {
    *length = 3;
    return (char32_t(p[0] & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  *length = 4;
  return (char32_t(p[0] & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) |
         (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

void append_scalar(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace tessera::utf8

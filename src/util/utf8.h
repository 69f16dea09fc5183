// The project's one UTF-8 decoder: validation, scalar decoding, and the lossy conversion that
// HF's ByteLevel decoder performs (Rust `String::from_utf8_lossy`; Python's errors="replace" cuts
// the same way, so the chat-template engine's str type decodes through here too).
//
// Lossy rule (Unicode "substitution of maximal subparts", Table 3-7; Rust and WHATWG do the same):
// an ill-formed sequence is cut into maximal subparts, each becoming one U+FFFD. A maximal subpart
// is a lead byte plus the continuation bytes that are still valid for it (e.g. E0 needs A0..BF
// next, ED needs 80..9F); a byte that can never start a sequence (80..BF, C0, C1, F5..FF) is a
// subpart of its own. A well-formed prefix cut off by the end of the input is one U+FFFD.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::utf8 {

// One step of the scan described above, starting at text[pos] (pos < text.size()).
struct Chunk {
  size_t length = 0;       // bytes covered: a whole scalar, or one maximal subpart
  bool valid = false;      // a complete, well-formed scalar
  bool truncated = false;  // !valid, and the bytes are a well-formed prefix ended by end of text
};
Chunk next_chunk(std::string_view text, size_t pos);

// Offset of the first byte that starts an ill-formed or truncated sequence; nullopt if valid.
std::optional<size_t> first_invalid_offset(std::string_view text);

// Appends `bytes` to `out`, replacing each maximal ill-formed subpart with U+FFFD.
void append_lossy(std::string_view bytes, std::string& out);

// Length of the trailing well-formed-but-truncated sequence of `bytes` (0..3): the bytes a
// streaming decoder must hold back because the next token may complete them.
size_t truncated_tail_length(std::string_view bytes);

// Decodes the scalar at text[pos] of valid UTF-8 text; sets *length to its byte count.
char32_t decode_at(std::string_view text, size_t pos, size_t* length);

// Appends the UTF-8 encoding of scalar `cp` to `out`.
void append_scalar(char32_t cp, std::string& out);

}  // namespace tessera::utf8

// GPT-2 byte-level alphabet (`bytes_to_unicode` in openai/gpt-2 encoder.py, HF ByteLevel).
// Every byte maps to one printable character so that BPE vocab entries are printable strings:
// bytes 0x21..0x7E, 0xA1..0xAC and 0xAE..0xFF map to the code point of the same value; the other
// 68 bytes map, in byte order, to U+0100, U+0101, ... (space 0x20 -> U+0120 'Ġ', '\n' -> 'Ċ').
//
// tessera runs BPE directly on raw bytes, so this mapping is only needed at load time (to turn
// vocab/merge strings into ids) and for the token strings that accessors return.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tessera::byte_level {

// The character byte `b` maps to.
char32_t byte_to_char(unsigned char b);

// Raw bytes -> byte-level string (UTF-8 of the mapped characters).
std::string encode(std::string_view bytes);

// Byte-level string -> raw bytes; nullopt if some character is outside the 256-char alphabet.
// `token` must be valid UTF-8.
std::optional<std::string> decode(std::string_view token);

// What HF's ByteLevel decoder emits for one token string: its raw bytes if every character is in
// the alphabet, otherwise the token's own UTF-8 bytes (decoders/byte_level.rs `decode_chain`).
std::string decoder_bytes(std::string_view token);

}  // namespace tessera::byte_level

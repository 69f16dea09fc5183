// Python `str` semantics over UTF-8 std::string. Chat templates call Python string methods
// (strip, split, find, ...) and print Python reprs; Python counts and indexes by code point and
// has its own idea of whitespace, so byte-level std::string functions are not enough.
// Strings are UTF-8 throughout; invalid bytes decode to U+FFFD.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::jinja {

std::u32string utf8_decode(std::string_view text);
std::string utf8_encode(std::u32string_view text);
void append_utf8(std::string& out, char32_t cp);
// Number of code points (Python len()).
size_t utf8_length(std::string_view text);

// str.isspace() for one code point: the set Python's str.strip()/split() and regex \s use.
bool py_isspace(char32_t cp);
// str.isprintable() for one code point: decides what repr() escapes.
bool py_isprintable(char32_t cp);

// repr(str): quotes and escapes exactly like CPython 3.
std::string py_repr_string(std::string_view text);
// repr(float) / str(float): shortest round-trip digits, CPython's exponent rules.
std::string py_float_repr(double value);

// str.strip / lstrip / rstrip. `chars` absent means whitespace.
std::string py_strip(std::string_view text, const std::optional<std::string>& chars, bool left,
                     bool right);
// str.split / str.rsplit. `sep` absent means runs of whitespace; maxsplit < 0 means no limit.
std::vector<std::string> py_split(std::string_view text, const std::optional<std::string>& sep,
                                  int64_t maxsplit);
std::vector<std::string> py_rsplit(std::string_view text, const std::optional<std::string>& sep,
                                   int64_t maxsplit);
std::vector<std::string> py_splitlines(std::string_view text, bool keepends);
// str.replace; count < 0 means all. An empty `old` inserts `repl` between code points.
std::string py_replace(std::string_view text, std::string_view old, std::string_view repl,
                       int64_t count);
// str.find / str.rfind / str.count over code-point indices [start, end) (Python slice rules).
int64_t py_find(std::string_view text, std::string_view sub, std::optional<int64_t> start,
                std::optional<int64_t> end, bool reverse);
int64_t py_count(std::string_view text, std::string_view sub);

std::string py_upper(std::string_view text);
std::string py_lower(std::string_view text);
std::string py_capitalize(std::string_view text);  // str.capitalize()
std::string py_title(std::string_view text);       // str.title()
std::string py_swapcase(std::string_view text);
bool py_is_cased(char32_t cp);
bool py_isalnum(char32_t cp);
bool py_isalpha(char32_t cp);
bool py_isdigit(char32_t cp);
bool py_isupper(char32_t cp);
bool py_islower(char32_t cp);

// markupsafe.escape() for a plain string.
std::string html_escape(std::string_view text);

}  // namespace tessera::jinja

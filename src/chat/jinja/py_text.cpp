// Python `str` semantics over UTF-8 (see py_text.h). Algorithms follow CPython's
// Objects/unicodeobject.c and Objects/stringlib; comments name the Python behaviour kept.
#include "chat/jinja/py_text.h"

#include "util/utf8.h"

#include <utf8proc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace tessera::jinja {

std::u32string utf8_decode(std::string_view text) {
  // Like Python's bytes.decode(errors="replace"): each maximal ill-formed subpart is one U+FFFD.
  std::u32string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const utf8::Chunk chunk = utf8::next_chunk(text, pos);
    if (chunk.valid) {
      size_t length = 0;
      out.push_back(utf8::decode_at(text, pos, &length));
    } else {
      out.push_back(0xFFFD);
    }
    pos += chunk.length;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) { utf8::append_scalar(cp, out); }

std::string utf8_encode(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  bool ascii = true;
  for (unsigned char c : text) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text.size();
  n = utf8_decode(text).size();
  return n;
}

bool py_isspace(char32_t cp) {
  // Py_UNICODE_ISSPACE: bidi classes WS, B, S plus category Zs.
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:
    case 0x1C: case 0x1D: case 0x1E: case 0x1F: case 0x20:
    case 0x85: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool py_isprintable(char32_t cp) {
  if (cp == ' ') return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

std::string py_repr_string(std::string_view text) {
  // unicode_repr: prefer single quotes unless the text has ' and no ".
  bool has_single = text.find('\'') != std::string_view::npos;
  bool has_double = text.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  static const char* kHex = "0123456789abcdef";
  for (char32_t cp : utf8_decode(text)) {
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x20 || cp == 0x7F) {
      out += "\\x";
      out += kHex[(cp >> 4) & 15];
      out += kHex[cp & 15];
    } else if (cp < 0x7F || py_isprintable(cp)) {
      append_utf8(out, cp);
    } else {
      int digits = cp <= 0xFF ? 2 : cp <= 0xFFFF ? 4 : 8;
      out += digits == 2 ? "\\x" : digits == 4 ? "\\u" : "\\U";
      for (int i = digits - 1; i >= 0; --i) out += kHex[(cp >> (4 * i)) & 15];
    }
  }
  out += quote;
  return out;
}

std::string py_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then CPython's float_repr_style='short' layout: positional
  // when -4 < exponent10 <= 16, otherwise d.ddde[+-]XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string out;
  size_t i = 0;
  if (sci[0] == '-') {
    out += '-';
    i = 1;
  }
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t k = i; k < e_pos; ++k)
    if (sci[k] != '.') digits += sci[k];
  int exp10 = std::stoi(sci.substr(e_pos + 1));
  int decpt = exp10 + 1;  // digits d1d2... mean 0.d1d2... * 10^decpt
  int ndigits = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (ndigits > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += exp10 < 0 ? '-' : '+';
    int a = std::abs(exp10);
    if (a < 10) out += '0';
    out += std::to_string(a);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= ndigits) {
    out += digits;
    out.append(static_cast<size_t>(decpt - ndigits), '0');
    out += ".0";
  } else {
    out += digits.substr(0, static_cast<size_t>(decpt));
    out += '.';
    out += digits.substr(static_cast<size_t>(decpt));
  }
  return out;
}

std::string py_strip(std::string_view text, const std::optional<std::string>& chars, bool left,
                     bool right) {
  std::u32string cps = utf8_decode(text);
  std::u32string set;
  if (chars) set = utf8_decode(*chars);
  auto strippable = [&](char32_t cp) {
    return chars ? set.find(cp) != std::u32string::npos : py_isspace(cp);
  };
  size_t begin = 0, end = cps.size();
  if (left)
    while (begin < end && strippable(cps[begin])) ++begin;
  if (right)
    while (end > begin && strippable(cps[end - 1])) --end;
  return utf8_encode(std::u32string_view(cps).substr(begin, end - begin));
}

namespace {

std::vector<std::string> split_whitespace(std::string_view text, int64_t maxsplit) {
  std::u32string cps = utf8_decode(text);
  std::vector<std::string> out;
  size_t i = 0, n = cps.size();
  while (true) {
    while (i < n && py_isspace(cps[i])) ++i;
    if (i >= n) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      // The remainder keeps its trailing whitespace, as CPython does.
      out.push_back(utf8_encode(std::u32string_view(cps).substr(i)));
      break;
    }
    size_t j = i;
    while (j < n && !py_isspace(cps[j])) ++j;
    out.push_back(utf8_encode(std::u32string_view(cps).substr(i, j - i)));
    i = j;
  }
  return out;
}

std::vector<std::string> rsplit_whitespace(std::string_view text, int64_t maxsplit) {
  std::u32string cps = utf8_decode(text);
  std::vector<std::string> out;
  size_t end = cps.size();
  while (true) {
    while (end > 0 && py_isspace(cps[end - 1])) --end;
    if (end == 0) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      out.push_back(utf8_encode(std::u32string_view(cps).substr(0, end)));
      break;
    }
    size_t j = end;
    while (j > 0 && !py_isspace(cps[j - 1])) --j;
    out.push_back(utf8_encode(std::u32string_view(cps).substr(j, end - j)));
    end = j;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> py_split(std::string_view text, const std::optional<std::string>& sep,
                                  int64_t maxsplit) {
  if (!sep) return split_whitespace(text, maxsplit);
  std::vector<std::string> out;
  size_t pos = 0;
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    size_t hit = text.find(*sep, pos);
    if (hit == std::string_view::npos) break;
    out.emplace_back(text.substr(pos, hit - pos));
    pos = hit + sep->size();
  }
  out.emplace_back(text.substr(pos));
  return out;
}

std::vector<std::string> py_rsplit(std::string_view text, const std::optional<std::string>& sep,
                                   int64_t maxsplit) {
  if (!sep) return rsplit_whitespace(text, maxsplit);
  std::vector<std::string> out;
  size_t end = text.size();
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    if (end < sep->size()) break;
    size_t hit = text.rfind(*sep, end - sep->size());
    if (hit == std::string_view::npos) break;
    out.emplace_back(text.substr(hit + sep->size(), end - hit - sep->size()));
    end = hit;
  }
  out.emplace_back(text.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> py_splitlines(std::string_view text, bool keepends) {
  std::u32string cps = utf8_decode(text);
  std::vector<std::string> out;
  size_t i = 0, n = cps.size();
  while (i < n) {
    size_t j = i;
    while (j < n) {
      char32_t c = cps[j];
      bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
                 c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
      if (brk) break;
      ++j;
    }
    size_t eol = j;
    if (j < n) {
      eol = (cps[j] == '\r' && j + 1 < n && cps[j + 1] == '\n') ? j + 2 : j + 1;
    }
    out.push_back(utf8_encode(std::u32string_view(cps).substr(i, (keepends ? eol : j) - i)));
    i = eol;
  }
  return out;
}

std::string py_replace(std::string_view text, std::string_view old, std::string_view repl,
                       int64_t count) {
  std::string out;
  if (old.empty()) {
    // 'ab'.replace('', '-') == '-a-b-'
    std::u32string cps = utf8_decode(text);
    int64_t done = 0;
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (count < 0 || done < count) {
        out += repl;
        ++done;
      }
      if (k < cps.size()) append_utf8(out, cps[k]);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t hit = text.find(old, pos);
    if (hit == std::string_view::npos) break;
    out += text.substr(pos, hit - pos);
    out += repl;
    pos = hit + old.size();
    ++done;
  }
  out += text.substr(pos);
  return out;
}

int64_t py_find(std::string_view text, std::string_view sub, std::optional<int64_t> start,
                std::optional<int64_t> end, bool reverse) {
  std::u32string hay = utf8_decode(text);
  std::u32string needle = utf8_decode(sub);
  auto len = static_cast<int64_t>(hay.size());
  auto adjust = [len](int64_t v) {  // slice index normalisation
    if (v < 0) v += len;
    return std::clamp<int64_t>(v, 0, len);
  };
  int64_t s = start ? (*start < 0 ? std::max<int64_t>(*start + len, 0) : *start) : 0;
  int64_t e = end ? adjust(*end) : len;
  auto m = static_cast<int64_t>(needle.size());
  if (e - s < m) return -1;
  if (!reverse) {
    for (int64_t i = s; i + m <= e; ++i)
      if (hay.compare(static_cast<size_t>(i), static_cast<size_t>(m), needle) == 0) return i;
  } else {
    for (int64_t i = e - m; i >= s; --i)
      if (hay.compare(static_cast<size_t>(i), static_cast<size_t>(m), needle) == 0) return i;
  }
  return -1;
}

int64_t py_count(std::string_view text, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(utf8_length(text)) + 1;
  int64_t n = 0;
  size_t pos = 0;
  while ((pos = text.find(sub, pos)) != std::string_view::npos) {
    ++n;
    pos += sub.size();
  }
  return n;
}

namespace {
void append_upper(std::string& out, char32_t cp) {
  if (cp == 0xDF) {  // full case mapping: 'ß'.upper() == 'SS'
    out += "SS";
    return;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp))));
}
void append_lower(std::string& out, char32_t cp) {
  append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
}
void append_title(std::string& out, char32_t cp) {
  append_utf8(out, static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp))));
}
utf8proc_category_t category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}
}  // namespace

bool py_isupper(char32_t cp) {
  return category(cp) == UTF8PROC_CATEGORY_LU || category(cp) == UTF8PROC_CATEGORY_LT;
}
bool py_islower(char32_t cp) { return category(cp) == UTF8PROC_CATEGORY_LL; }
bool py_is_cased(char32_t cp) {
  auto c = category(cp);
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}
bool py_isalpha(char32_t cp) {
  auto c = category(cp);
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
         c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_LO;
}
bool py_isdigit(char32_t cp) { return category(cp) == UTF8PROC_CATEGORY_ND; }
bool py_isalnum(char32_t cp) {
  auto c = category(cp);
  return py_isalpha(cp) || c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL ||
         c == UTF8PROC_CATEGORY_NO;
}

std::string py_upper(std::string_view text) {
  std::string out;
  for (char32_t cp : utf8_decode(text)) append_upper(out, cp);
  return out;
}

std::string py_lower(std::string_view text) {
  std::string out;
  for (char32_t cp : utf8_decode(text)) append_lower(out, cp);
  return out;
}

std::string py_capitalize(std::string_view text) {
  std::string out;
  bool first = true;
  for (char32_t cp : utf8_decode(text)) {
    if (first)
      append_title(out, cp);
    else
      append_lower(out, cp);
    first = false;
  }
  return out;
}

std::string py_title(std::string_view text) {
  std::string out;
  bool previous_cased = false;
  for (char32_t cp : utf8_decode(text)) {
    if (previous_cased)
      append_lower(out, cp);
    else
      append_title(out, cp);
    previous_cased = py_is_cased(cp);
  }
  return out;
}

std::string py_swapcase(std::string_view text) {
  std::string out;
  for (char32_t cp : utf8_decode(text)) {
    if (py_isupper(cp))
      append_lower(out, cp);
    else if (py_islower(cp))
      append_upper(out, cp);
    else
      append_utf8(out, cp);
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace tessera::jinja

#include "tokenizer/normalizer.h"

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include <cstdlib>

#include "util/error.h"

namespace tessera {
namespace {

void read_spec(const nlohmann::json& spec, const std::string& where,
               std::vector<NormalizationForm>& forms) {
  if (spec.is_null()) return;
  if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string()) {
    fail("{}: expected an object with a string \"type\"", where);
  }
  const std::string type = spec["type"];
  if (type == "NFC") {
    forms.push_back(NormalizationForm::kNfc);
  } else if (type == "NFD") {
    forms.push_back(NormalizationForm::kNfd);
  } else if (type == "NFKC") {
    forms.push_back(NormalizationForm::kNfkc);
  } else if (type == "NFKD") {
    forms.push_back(NormalizationForm::kNfkd);
  } else if (type == "Sequence") {
    if (!spec.contains("normalizers") || !spec["normalizers"].is_array()) {
      fail("{}: Sequence needs a \"normalizers\" array", where);
    }
    const auto& list = spec["normalizers"];
    for (size_t i = 0; i < list.size(); ++i) {
      read_spec(list[i], where + ".normalizers[" + std::to_string(i) + "]", forms);
    }
  } else {
    fail("{}: normalizer type \"{}\" is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence)",
         where, type);
  }
}

utf8proc_option_t options_for(NormalizationForm form) {
  const int base = UTF8PROC_STABLE;
  switch (form) {
    case NormalizationForm::kNfc: return utf8proc_option_t(base | UTF8PROC_COMPOSE);
    case NormalizationForm::kNfd: return utf8proc_option_t(base | UTF8PROC_DECOMPOSE);
    case NormalizationForm::kNfkc: return utf8proc_option_t(base | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    case NormalizationForm::kNfkd: return utf8proc_option_t(base | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  }
  return utf8proc_option_t(base);
}

bool is_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return false;
  }
  return true;
}

}  // namespace

Normalizer Normalizer::from_json(const nlohmann::json& spec, const std::string& where) {
  Normalizer n;
  read_spec(spec, where, n.forms_);
  return n;
}

std::string Normalizer::normalize(std::string_view text) const {
  std::string current(text);
  // Every normalization form maps ASCII to itself.
  if (forms_.empty() || is_ascii(text)) return current;
  for (NormalizationForm form : forms_) {
    utf8proc_uint8_t* result = nullptr;
    // Explicit length (no UTF8PROC_NULLTERM), so U+0000 in the text is kept.
    const utf8proc_ssize_t size =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(current.data()),
                     static_cast<utf8proc_ssize_t>(current.size()), &result, options_for(form));
    if (size < 0) {
      fail("tokenizer: Unicode normalization failed: {}", utf8proc_errmsg(size));
    }
    current.assign(reinterpret_cast<const char*>(result), static_cast<size_t>(size));
    std::free(result);
  }
  return current;
}

}  // namespace tessera

// The tokenizer.json "normalizer": Unicode normalization applied to each text piece left after
// added tokens are cut out (HF AddedVocabulary::extract_and_normalize). Qwen2/3 declare NFC.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tessera {

enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };

class Normalizer {
 public:
  Normalizer() = default;  // identity

  // Reads `null`, {"type": "NFC"|"NFD"|"NFKC"|"NFKD"} or {"type": "Sequence", "normalizers": [...]}
  // of those. Any other type throws tessera::Error naming `where` and the type.
  static Normalizer from_json(const nlohmann::json& spec, const std::string& where);

  bool is_identity() const { return forms_.empty(); }

  // `text` must be valid UTF-8. Pure ASCII passes through unchanged (fast path).
  std::string normalize(std::string_view text) const;

 private:
  std::vector<NormalizationForm> forms_;  // applied in order
};

}  // namespace tessera

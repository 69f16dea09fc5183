// Tokenizer::load: reads tokenizer.json (+ tokenizer_config.json) into the pipeline parts.
// Every error names the file and the JSON field; HF's serde defaults are used for absent fields.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/read_file.h"

namespace tessera {
namespace {

using nlohmann::json;


bool read_bool(const json& obj, const char* key, bool fallback, const std::string& where) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_boolean()) fail("{}.{}: expected a boolean, got {}", where, key, obj[key].dump());
  return obj[key].get<bool>();
}

std::string type_of(const json& spec) {
  if (spec.is_object() && spec.contains("type") && spec["type"].is_string()) return spec["type"];
  return spec.dump();
}

AddedToken parse_added_token(const json& j, const std::string& where) {
  if (!j.is_object()) fail("{}: expected an object", where);
  if (!j.contains("id") || !j["id"].is_number_integer() || j["id"].get<int64_t>() < 0 ||
      j["id"].get<int64_t>() > INT32_MAX) {
    fail("{}.id: expected a non-negative 32-bit integer", where);
  }
  if (!j.contains("content") || !j["content"].is_string() || j["content"].get<std::string>().empty()) {
    fail("{}.content: expected a non-empty string", where);
  }
  AddedToken t;
  t.id = j["id"].get<int32_t>();
  t.content = j["content"].get<std::string>();
  t.special = read_bool(j, "special", false, where);
  t.normalized = read_bool(j, "normalized", true, where);  // serde default of AddedToken
  t.lstrip = read_bool(j, "lstrip", false, where);
  t.rstrip = read_bool(j, "rstrip", false, where);
  t.single_word = read_bool(j, "single_word", false, where);
  return t;
}

// A merge is "left right" (older files) or ["left", "right"] (tokenizers >= 0.20). The views
// point into `m`. Returns false if `m` has neither form.
bool parse_merge(const json& m, std::string_view& left, std::string_view& right) {
  if (m.is_string()) {
    const std::string_view s = m.get_ref<const std::string&>();
    const size_t space = s.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == s.size()) return false;
    left = s.substr(0, space);
    right = s.substr(space + 1);
    return true;
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    left = m[0].get_ref<const std::string&>();
    right = m[1].get_ref<const std::string&>();
    return true;
  }
  return false;
}

void check_model_options(const json& model, const std::string& where) {
  if (model.contains("type") && model["type"] != "BPE") {
    fail("{}.type: model type {} is not supported (only BPE)", where, model["type"].dump());
  }
  if (!model.contains("type") && !model.contains("merges")) {
    fail("{}: not a BPE model (no \"type\" and no \"merges\")", where);
  }
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"] != 0.0) {
    fail("{}.dropout: BPE dropout is not supported (got {})", where, model["dropout"].dump());
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && model[key] != "") {
      fail("{}.{}: not supported for byte-level BPE (got {})", where, key, model[key].dump());
    }
  }
  if (read_bool(model, "byte_fallback", false, where)) {
    fail("{}.byte_fallback: not supported (byte-level BPE never needs it)", where);
  }
}

void check_decoder(const json& spec, const std::string& where) {
  if (type_of(spec) != "ByteLevel") {
    fail("{}: decoder type {} is not supported (only ByteLevel)", where, type_of(spec));
  }
}

// Encode adds no special tokens, so only post-processors that add none are accepted.
void check_post_processor(const json& spec, const std::string& where) {
  if (spec.is_null() || type_of(spec) == "ByteLevel") return;
  fail("{}: post_processor type {} is not supported (only ByteLevel or null)", where,
       type_of(spec));
}


TokenIdMap read_vocab(const json& model, const std::string& file) {
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    fail("{}: model.vocab: expected an object of token -> id", file);
  }
  const json& vocab = model["vocab"];
  TokenIdMap ids;
  ids.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      fail("{}: model.vocab[\"{}\"]: expected a non-negative 32-bit id, got {}", file, token,
           id.dump());
    }
    ids.emplace(token, id.get<int32_t>());
  }
  return ids;
}

// tokenizer.json "added_tokens", then tokenizer_config.json "added_tokens_decoder" entries for
// ids the first list lacks (transformers adds those the same way).
std::vector<AddedToken> read_added_tokens(const json& root, const json& config,
                                          const std::string& file, const std::string& config_file) {
  std::vector<AddedToken> tokens;
  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
    const json& list = root["added_tokens"];
    if (!list.is_array()) fail("{}: added_tokens: expected an array", file);
    for (size_t i = 0; i < list.size(); ++i) {
      tokens.push_back(parse_added_token(list[i], file + ": added_tokens[" + std::to_string(i) + "]"));
    }
  }
  if (!config.contains("added_tokens_decoder") || !config["added_tokens_decoder"].is_object()) {
    return tokens;
  }
  for (const auto& [key, value] : config["added_tokens_decoder"].items()) {
    const std::string where = fmt::format("{}: added_tokens_decoder[\"{}\"]", config_file, key);
    json with_id = value;
    try {
      with_id["id"] = std::stoll(key);
    } catch (const std::exception&) {
      fail("{}: key is not an integer id", where);
    }
    const AddedToken token = parse_added_token(with_id, where);
    bool present = false;
    for (const AddedToken& existing : tokens) {
      if (existing.id != token.id) continue;
      present = true;
      if (existing.content != token.content) {
        fail("{}: content \"{}\" differs from tokenizer.json's \"{}\" for id {}", where,
             token.content, existing.content, token.id);
      }
    }
    if (!present) tokens.push_back(token);
  }
  return tokens;
}

// The BPE model on raw bytes: ids of the 256 single-byte tokens, then the merges in rank order.
std::unique_ptr<Bpe> read_bpe(const json& model, const TokenIdMap& ids, const std::string& file) {
  std::array<int32_t, 256> byte_ids{};
  for (int b = 0; b < 256; ++b) {
    const std::string symbol = byte_level::encode(std::string(1, static_cast<char>(b)));
    const auto it = ids.find(symbol);
    if (it == ids.end()) {
      fail("{}: model.vocab has no token for byte 0x{:02X} (\"{}\"); byte-level BPE needs all 256",
           file, b, symbol);
    }
    byte_ids[b] = it->second;
  }

  if (!model.contains("merges") || !model["merges"].is_array()) {
    fail("{}: model.merges: expected an array", file);
  }
  const json& list = model["merges"];
  std::vector<BpeMerge> merges;
  merges.reserve(list.size());
  // 151k merges: keep the loop free of allocations; build error messages only on failure.
  const auto where = [&](size_t i) { return file + ": model.merges[" + std::to_string(i) + "]"; };
  std::string merged;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string_view left, right;
    if (!parse_merge(list[i], left, right)) {
      fail("{}: expected \"left right\" or [\"left\", \"right\"], got {}", where(i), list[i].dump());
    }
    merged.assign(left).append(right);
    const std::string_view parts[3] = {left, right, merged};
    int32_t part_ids[3];
    for (int k = 0; k < 3; ++k) {
      const auto it = ids.find(parts[k]);
      if (it == ids.end()) fail("{}: \"{}\" is not in model.vocab", where(i), parts[k]);
      part_ids[k] = it->second;
    }
    merges.push_back({part_ids[0], part_ids[1], part_ids[2]});
  }

  BpeOptions options;
  options.ignore_merges = read_bool(model, "ignore_merges", false, file + ": model");
  std::unordered_map<std::string, int32_t> whole_words;
  if (options.ignore_merges) {
    for (const auto& [token, id] : ids) {
      if (auto bytes = byte_level::decode(token)) whole_words.emplace(*std::move(bytes), id);
    }
  }
  return std::make_unique<Bpe>(byte_ids, merges, std::move(whole_words), options);
}

// tokenizer_config.json "eos_token": a string, or an AddedToken-like object with "content".
std::optional<std::string> read_eos_token(const json& config, const std::string& config_file) {
  if (!config.contains("eos_token") || config["eos_token"].is_null()) return std::nullopt;
  const json& eos = config["eos_token"];
  if (eos.is_string()) return eos.get<std::string>();
  if (eos.is_object() && eos.contains("content") && eos["content"].is_string()) {
    return eos["content"].get<std::string>();
  }
  fail("{}: eos_token: expected a string or an object with \"content\", got {}", config_file,
       eos.dump());
}

// tokenizer_config.json "pretokenize_regex" (Qwen3.5), which replaces the Split regex.
std::optional<std::string> read_regex_override(const json& config, const std::string& config_file) {
  if (!config.contains("pretokenize_regex") || config["pretokenize_regex"].is_null()) {
    return std::nullopt;
  }
  if (!config["pretokenize_regex"].is_string()) {
    fail("{}: pretokenize_regex: expected a string", config_file);
  }
  return config["pretokenize_regex"].get<std::string>();
}

}  // namespace

Tokenizer Tokenizer::load(const std::filesystem::path& model_dir) {
  const std::filesystem::path json_path = model_dir / "tokenizer.json";
  const std::filesystem::path config_path = model_dir / "tokenizer_config.json";
  const std::string file = json_path.string();
  const std::string config_file = config_path.string();

  const json root = read_json_file(json_path);
  if (!root.is_object()) fail("{}: expected a JSON object at the top level", file);
  if (!root.contains("model") || !root["model"].is_object()) fail("{}: missing \"model\" object", file);
  json config = json::object();
  if (std::filesystem::exists(config_path)) {
    config = read_json_file(config_path);
    if (!config.is_object()) fail("{}: expected a JSON object at the top level", config_file);
  }
  const json& model = root["model"];
  check_model_options(model, file + ": model");
  check_decoder(root.value("decoder", json()), file + ": decoder");
  check_post_processor(root.value("post_processor", json()), file + ": post_processor");

  Tokenizer tok;
  tok.normalizer_ = Normalizer::from_json(root.value("normalizer", json()), file + ": normalizer");
  tok.pre_tokenizer_ = PreTokenizer::from_json(root.value("pre_tokenizer", json()),
                                               file + ": pre_tokenizer",
                                               read_regex_override(config, config_file),
                                               config_file + ": pretokenize_regex");
  if (!tok.pre_tokenizer_.has_byte_level()) {
    fail("{}: pre_tokenizer has no ByteLevel step; only byte-level BPE is supported", file);
  }
  tok.model_ids_ = read_vocab(model, file);
  tok.bpe_ = read_bpe(model, tok.model_ids_, file);
  tok.added_tokens_ = read_added_tokens(root, config, file, config_file);
  tok.build_id_table(file);
  tok.build_added_token_matchers();

  if (const auto eos = read_eos_token(config, config_file)) {
    tok.eos_token_id_ = tok.token_to_id(*eos);
    if (!tok.eos_token_id_) fail("{}: eos_token \"{}\" is not a token of {}", config_file, *eos, file);
  }
  return tok;
}

// entries_ by id: BPE tokens, then added tokens (HF's id_to_token prefers the added content).
void Tokenizer::build_id_table(const std::string& file) {
  int64_t max_id = -1;
  for (const auto& [token, id] : model_ids_) max_id = std::max<int64_t>(max_id, id);
  for (const AddedToken& t : added_tokens_) {
    if (!added_ids_.emplace(t.content, t.id).second) {
      fail("{}: added token \"{}\" is listed twice", file, t.content);
    }
    max_id = std::max<int64_t>(max_id, t.id);
  }
  entries_.assign(static_cast<size_t>(max_id + 1), Entry{});
  for (const auto& [token, id] : model_ids_) {
    Entry& e = entries_[id];
    if (e.known) fail("{}: model.vocab: id {} is used by both \"{}\" and \"{}\"", file, id, e.token, token);
    e.token = token;
    e.known = true;
  }
  for (const AddedToken& t : added_tokens_) {
    Entry& e = entries_[t.id];
    e.token = t.content;
    e.known = true;
    e.special = t.special;
  }
  for (Entry& e : entries_) {
    if (e.known) e.bytes = byte_level::decoder_bytes(e.token);
  }
}

// normalized=false tokens are found in the raw text, normalized=true ones in normalized text,
// so their patterns are normalized too.
void Tokenizer::build_added_token_matchers() {
  std::vector<std::string> raw_patterns, normalized_patterns;
  std::vector<AddedToken> raw_tokens, normalized_tokens;
  for (const AddedToken& t : added_tokens_) {
    if (t.normalized) {
      normalized_patterns.push_back(normalizer_.normalize(t.content));
      normalized_tokens.push_back(t);
    } else {
      raw_patterns.push_back(t.content);
      raw_tokens.push_back(t);
    }
  }
  raw_matcher_ = AddedTokenMatcher(raw_patterns, std::move(raw_tokens));
  normalized_matcher_ = AddedTokenMatcher(normalized_patterns, std::move(normalized_tokens));
}

}  // namespace tessera

// Constrained decoding with the real Qwen3 vocabulary (151k tokens): random generations always
// parse and validate, the trie mask agrees with a brute-force check of every token, and EOS is
// allowed exactly when the output is complete.
#include "engine/grammar_constraint.h"
#include "engine/json_schema_grammar.h"

#include "grammar_test_util.h"
#include "random_walk.h"
#include "schema_validator.h"
#include "util/error.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tessera {
namespace {

using testing::Json;
using testing::random_walk;
using testing::qwen3_tokenizer;
using testing::qwen3_trie;
using testing::validates;

const char* kPersonSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 12},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "email": {"type": ["string", "null"]},
    "role": {"enum": ["admin", "editor", "viewer"]},
    "score": {"type": "number"},
    "address": {"type": "object", "properties": {"street": {"type": "string"}, "zip": {"type": "string", "maxLength": 5}},
                "required": ["street"], "additionalProperties": false},
    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3}
  },
  "required": ["name", "age", "email", "role", "address", "tags"],
  "additionalProperties": false})";

const char* kUnionSchema = R"({
  "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]}},
  "type": "object",
  "properties": {
    "kind": {"const": "shape"},
    "at": {"anyOf": [{"$ref": "#/$defs/point"}, {"type": "null"}]},
    "points": {"type": "array", "items": {"$ref": "#/$defs/point"}, "maxItems": 3},
    "flag": {"type": "boolean"},
    "level": {"type": "integer", "minimum": 1},
    "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
    "anything": {}
  },
  "required": ["kind", "at", "points", "flag", "level"]})";

TEST(SchemaValidator, RejectsWhatTheSchemaRejects) {
  const Json schema = Json::parse(kPersonSchema);
  const Json ok = Json::parse(R"({"name": "a", "age": 3, "email": null, "role": "admin", "address": {"street": ""}, "tags": ["x"]})");
  EXPECT_TRUE(validates(ok, schema, schema));
  for (const char* patch : {R"({"name": ""})", R"({"age": 151})", R"({"role": "boss"})", R"({"tags": []})",
                            R"({"email": 1})", R"({"address": {"street": 5}})", R"({"age": 1.5})"}) {
    Json bad = ok;
    bad.merge_patch(Json::parse(patch));
    EXPECT_FALSE(validates(bad, schema, schema)) << patch;
  }
}

// 70 generations per schema (210 in all): every finished one parses and validates.
TEST(GrammarConstraint, RandomGenerationsParseAndValidate) {
  std::mt19937_64 rng(20261202);
  int finished = 0, total = 0;
  for (const char* text : {kPersonSchema, kUnionSchema, "object"}) {
    const bool any_object = std::string_view(text) == "object";
    const Json schema = any_object ? Json::object() : Json::parse(text);
    auto grammar = testing::share(any_object ? json_object_grammar() : json_schema_grammar(schema));
    for (int i = 0; i < 70; ++i, ++total) {
      const testing::Walk walk = random_walk(grammar, rng, 600);
      if (!walk.finished) continue;
      ++finished;
      Json value;
      ASSERT_NO_THROW(value = Json::parse(walk.text)) << walk.text;
      if (any_object) EXPECT_TRUE(value.is_object()) << walk.text;
      else EXPECT_TRUE(validates(value, schema, schema)) << walk.text;
    }
  }
  // Unfinished walks ran out of tokens (a model can too: finish_reason "length").
  EXPECT_GE(finished, total * 9 / 10) << finished << " of " << total << " finished";
}

// At states met along random walks, a token is allowed iff its bytes keep a copy of the matcher
// alive; special tokens never are; EOS only when the output is complete.
TEST(GrammarConstraint, MaskAgreesWithBruteForce) {
  const Tokenizer& tok = qwen3_tokenizer();
  const int32_t eos = *tok.token_to_id("<|im_end|>");
  std::mt19937_64 rng(7);
  int checked = 0;
  auto grammar = testing::share(json_schema_grammar(Json::parse(kPersonSchema)));
  for (int walk = 0; walk < 1; ++walk) {
    int step = 0;
    random_walk(grammar, rng, 600, [&](GrammarConstraint& c) {
      if (step++ % 5 != 0 || checked >= 12) return;  // a spread of states: punctuation, names, strings, numbers
      const TokenMask& mask = c.allowed_tokens();
      int64_t brute_allowed = 0;
      for (int32_t id = 0; id < tok.vocab_size(); ++id) {
        bool alive = false;
        if (tok.is_known(id) && !tok.is_special(id) && !tok.token_bytes(id).empty()) {
          GrammarMatcher m = c.matcher();
          alive = m.advance(tok.token_bytes(id));
        }
        brute_allowed += alive;
        ASSERT_EQ(mask.allowed(id), alive) << "token " << id << " '" << tok.token_bytes(id) << "'";
      }
      EXPECT_EQ(mask.count(), brute_allowed);
      std::vector<float> logits(static_cast<size_t>(tok.vocab_size()) + 64, 1.0f);  // + embedding padding
      c.mask_logits(logits, {eos});
      EXPECT_EQ(std::isfinite(logits[static_cast<size_t>(eos)]), c.matcher().accepting());
      EXPECT_TRUE(std::isinf(logits.back()));
      ++checked;
    });
  }
  EXPECT_GE(checked, 10);
}

TEST(GrammarConstraint, EosOnlyWhenComplete) {
  // A top-level number may end after any digit: EOS is allowed then, and not after "-".
  const Tokenizer& tok = qwen3_tokenizer();
  const int32_t eos = *tok.token_to_id("<|im_end|>");
  GrammarConstraint c(testing::share(json_schema_grammar(Json::parse(R"({"type": "integer"})"))), qwen3_trie(), tok);
  std::vector<float> logits(static_cast<size_t>(tok.vocab_size()), 0.5f);
  c.mask_logits(logits, {eos});
  EXPECT_TRUE(std::isinf(logits[static_cast<size_t>(eos)]));
  c.accept_token(*tok.token_to_id("-"));
  std::fill(logits.begin(), logits.end(), 0.5f);
  c.mask_logits(logits, {eos});
  EXPECT_TRUE(std::isinf(logits[static_cast<size_t>(eos)]));
  EXPECT_TRUE(std::isinf(logits[static_cast<size_t>(*tok.token_to_id("-"))]));
  c.accept_token(*tok.token_to_id("4"));
  std::fill(logits.begin(), logits.end(), 0.5f);
  c.mask_logits(logits, {eos});
  EXPECT_EQ(logits[static_cast<size_t>(eos)], 0.5f);  // kept as it was, not forced
  EXPECT_FALSE(c.finished());
  EXPECT_THROW(c.accept_token(*tok.token_to_id("a")), InternalError);
}

TEST(GrammarConstraint, AddedTokenOrItsBytesSatisfyALiteral) {
  // "<tool_call>" is one added (non-special) token in Qwen3; the literal can also be spelled out.
  const Tokenizer& tok = qwen3_tokenizer();
  const int32_t tool_call = *tok.token_to_id("<tool_call>");
  GrammarBuilder b;
  const int32_t root = b.add("root", GrammarExpr::literal("<tool_call>x"));
  auto grammar = testing::share(b.build(root));
  GrammarConstraint c(grammar, qwen3_trie(), tok);
  EXPECT_TRUE(c.allowed_tokens().allowed(tool_call));
  EXPECT_TRUE(c.allowed_tokens().allowed(*tok.token_to_id("<")));
  c.accept_token(tool_call);
  EXPECT_TRUE(c.allowed_tokens().allowed(*tok.token_to_id("x")));
  c.accept_token(*tok.token_to_id("x"));
  EXPECT_TRUE(c.finished());
}

}  // namespace
}  // namespace tessera

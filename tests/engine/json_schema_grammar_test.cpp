// JSON Schema → grammar, keyword by keyword: documents the schema accepts match, documents it
// rejects do not, and unsupported keywords are refused by name.
#include "engine/json_schema_grammar.h"

#include "grammar_test_util.h"
#include "util/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera {
namespace {

using Json = nlohmann::ordered_json;
using testing::matches;
using testing::share;
using testing::viable_prefix;

std::shared_ptr<const Grammar> schema_grammar(const char* schema) { return share(json_schema_grammar(Json::parse(schema))); }

TEST(JsonSchemaGrammar, ObjectPropertiesInOrderRequiredAndOptional) {
  auto g = schema_grammar(R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}},
                               "required": ["b"], "additionalProperties": false})");
  EXPECT_TRUE(matches(g, R"({"b":"x"})"));
  EXPECT_TRUE(matches(g, R"({"a":1,"b":"x","c":true})"));
  EXPECT_TRUE(matches(g, R"({"a": -12, "b": "", "c": false})"));
  EXPECT_TRUE(matches(g, "{\n  \"a\": 0,\n  \"b\": \"y\"\n}"));
  EXPECT_FALSE(matches(g, R"({"a":1})"));              // b is required
  EXPECT_FALSE(matches(g, R"({"b":"x","a":1})"));      // order as given
  EXPECT_FALSE(matches(g, R"({"b":"x","d":1})"));      // no other properties
  EXPECT_FALSE(matches(g, R"({,"b":"x"})"));
  EXPECT_FALSE(matches(g, R"({"a":01,"b":"x"})"));     // no leading zeros
  EXPECT_FALSE(matches(g, R"({"a":1.5,"b":"x"})"));    // integer
}

TEST(JsonSchemaGrammar, AllOptionalPropertiesAllowEmptyObject) {
  auto g = schema_grammar(R"({"type": "object", "properties": {"a": {"type": "null"}, "b": {"type": "null"}}})");
  EXPECT_TRUE(matches(g, "{}"));
  EXPECT_TRUE(matches(g, R"({"b":null})"));
  EXPECT_TRUE(matches(g, R"({"a":null, "b":null})"));
  EXPECT_FALSE(matches(g, R"({"a":null,})"));
}

TEST(JsonSchemaGrammar, ArraysWithBounds) {
  auto g = schema_grammar(R"({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3})");
  EXPECT_FALSE(matches(g, "[]"));
  EXPECT_TRUE(matches(g, "[1]"));
  EXPECT_TRUE(matches(g, "[1, 2,3]"));
  EXPECT_FALSE(matches(g, "[1,2,3,4]"));
  EXPECT_FALSE(matches(g, "[1,]"));
  auto any = schema_grammar(R"({"type": "array"})");
  EXPECT_TRUE(matches(any, "[]"));
  EXPECT_TRUE(matches(any, R"([1, "a", {"k": [null]}, true])"));
}

TEST(JsonSchemaGrammar, StringsAreValidJsonAndUtf8) {
  auto g = schema_grammar(R"({"type": "string"})");
  EXPECT_TRUE(matches(g, R"("plain")"));
  EXPECT_TRUE(matches(g, R"("esc \" \\ \/ \n \u00e9 \uFFFF")"));
  EXPECT_TRUE(matches(g, "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\""));
  EXPECT_FALSE(matches(g, "\"raw\nnewline\""));
  EXPECT_FALSE(matches(g, R"("\x")"));
  EXPECT_FALSE(matches(g, R"("\ud800")"));          // lone surrogate escape
  EXPECT_FALSE(viable_prefix(g, "\"\xC3\x28"));     // broken UTF-8
  EXPECT_FALSE(viable_prefix(g, "\"\xED\xA0\x80")); // encoded surrogate
  EXPECT_FALSE(viable_prefix(g, "\"\xC0\xAF"));     // overlong
}

TEST(JsonSchemaGrammar, StringLengthCountsCodePoints) {
  auto g = schema_grammar(R"({"type": "string", "minLength": 2, "maxLength": 3})");
  EXPECT_FALSE(matches(g, R"("a")"));
  EXPECT_TRUE(matches(g, R"("ab")"));
  EXPECT_TRUE(matches(g, "\"\xC3\xA9\\n\xE2\x82\xAC\""));  // 3 code points, 7 bytes
  EXPECT_FALSE(matches(g, R"("abcd")"));
}

TEST(JsonSchemaGrammar, NumbersAndIntegerBounds) {
  auto num = schema_grammar(R"({"type": "number"})");
  for (const char* ok : {"0", "-0.5", "12.25e-3", "1E+10", "7"}) EXPECT_TRUE(matches(num, ok)) << ok;
  for (const char* bad : {"01", "1.", ".5", "+1", "1e", "--1", "1e123"}) EXPECT_FALSE(matches(num, bad)) << bad;
  auto range = schema_grammar(R"({"type": "integer", "minimum": -3, "exclusiveMaximum": 12})");
  for (int v = -10; v <= 20; ++v) EXPECT_EQ(matches(range, std::to_string(v)), v >= -3 && v < 12) << v;
  auto at_least_one = schema_grammar(R"({"type": "integer", "minimum": 1})");
  EXPECT_FALSE(matches(at_least_one, "0"));
  EXPECT_FALSE(matches(at_least_one, "-5"));
  EXPECT_TRUE(matches(at_least_one, "1"));
  EXPECT_TRUE(matches(at_least_one, "10"));
  auto non_negative = schema_grammar(R"({"type": "number", "minimum": 0})");
  EXPECT_TRUE(matches(non_negative, "0.5"));
  EXPECT_FALSE(matches(non_negative, "-0.5"));
}

TEST(JsonSchemaGrammar, EnumConstBooleanNull) {
  auto e = schema_grammar(R"({"enum": ["red", "green", "gray", 3, null]})");
  for (const char* ok : {R"("red")", R"("green")", R"("gray")", "3", "null"}) EXPECT_TRUE(matches(e, ok)) << ok;
  for (const char* bad : {R"("gre")", R"("blue")", "4", "true"}) EXPECT_FALSE(matches(e, bad)) << bad;
  auto c = schema_grammar(R"({"const": {"k": [1, "x"]}})");
  EXPECT_TRUE(matches(c, R"({"k":[1,"x"]})"));
  EXPECT_FALSE(matches(c, R"({"k":[1,"y"]})"));
  auto b = schema_grammar(R"({"type": "boolean"})");
  EXPECT_TRUE(matches(b, "true"));
  EXPECT_TRUE(matches(b, "false"));
  EXPECT_FALSE(matches(b, "null"));
}

TEST(JsonSchemaGrammar, NullableTypesAnyOfAndRefs) {
  auto nullable = schema_grammar(R"({"type": ["string", "null"]})");
  EXPECT_TRUE(matches(nullable, "null"));
  EXPECT_TRUE(matches(nullable, R"("s")"));
  EXPECT_FALSE(matches(nullable, "1"));
  auto openapi = schema_grammar(R"({"type": "integer", "nullable": true})");
  EXPECT_TRUE(matches(openapi, "null"));
  auto any_of = schema_grammar(R"({"anyOf": [{"type": "integer"}, {"$ref": "#/$defs/point"}],
                                   "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}}})");
  EXPECT_TRUE(matches(any_of, "5"));
  EXPECT_TRUE(matches(any_of, R"({"x": 1.5})"));
  EXPECT_FALSE(matches(any_of, R"({"y": 1.5})"));
  // Recursive: a tree whose children are trees.
  auto tree = schema_grammar(R"({"type": "object", "properties": {"v": {"type": "integer"},
                                 "kids": {"type": "array", "items": {"$ref": "#"}}}, "required": ["v", "kids"]})");
  EXPECT_TRUE(matches(tree, R"({"v":1,"kids":[{"v":2,"kids":[]},{"v":3,"kids":[{"v":4,"kids":[]}]}]})"));
  EXPECT_FALSE(matches(tree, R"({"v":1,"kids":[{"v":2}]})"));
  auto defs = schema_grammar(R"({"definitions": {"a~b": {"type": "null"}}, "$ref": "#/definitions/a~0b"})");
  EXPECT_TRUE(matches(defs, "null"));
}

TEST(JsonSchemaGrammar, EmptySchemaAndJsonObject) {
  auto any = schema_grammar("{}");
  for (const char* ok : {"1", "\"s\"", "[]", "{\"a\": {\"b\": [true, null]}}"}) EXPECT_TRUE(matches(any, ok)) << ok;
  auto obj = share(json_object_grammar());
  EXPECT_TRUE(matches(obj, "{}"));
  EXPECT_TRUE(matches(obj, R"({"a": [1, {"b": "c"}], "d": -2.5e3})"));
  EXPECT_FALSE(matches(obj, "[]"));
  EXPECT_FALSE(matches(obj, R"({"a" 1})"));
  auto prefixed = share(json_object_grammar("</think>\n\n"));
  EXPECT_TRUE(matches(prefixed, "</think>\n\n{}"));
  EXPECT_FALSE(matches(prefixed, "{}"));
}

TEST(JsonSchemaGrammar, WhitespaceIsBounded) {
  auto g = share(json_object_grammar());
  EXPECT_TRUE(matches(g, "{ }"));
  EXPECT_TRUE(matches(g, "{\n" + std::string(20, ' ') + "}"));
  EXPECT_FALSE(viable_prefix(g, "{\n" + std::string(21, ' ')));
  EXPECT_FALSE(viable_prefix(g, "{  "));
  EXPECT_FALSE(viable_prefix(g, " {"));
}

TEST(JsonSchemaGrammar, RefusesUnsupportedKeywordsByName) {
  auto refused = [](const char* schema, const char* fragment) {
    try {
      json_schema_grammar(Json::parse(schema));
      ADD_FAILURE() << "accepted " << schema;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(fragment)) << schema;
    }
  };
  refused(R"({"type": "string", "pattern": "^a+$"})", "'pattern' at $");
  refused(R"({"type": "object", "properties": {"d": {"type": "string", "format": "date"}}})", "'format' at $.properties.d");
  refused(R"({"type": "number", "maximum": 3})", "'maximum'");
  refused(R"({"type": "integer", "minimum": 100})", "lower bound");
  refused(R"({"type": "array", "uniqueItems": true})", "'uniqueItems'");
  refused(R"({"type": "object", "minProperties": 1})", "'minProperties'");
  refused(R"({"type": "object", "properties": {}, "required": ["x"]})", "'x'");
  refused(R"({"$ref": "#/$defs/missing"})", "does not resolve");
  refused(R"({"type": "text"})", "unknown JSON Schema type 'text'");
  refused(R"({"allOf": [{"type": "string"}, {"maxLength": 2}]})", "allOf");
  refused(R"({"anyOf": [{"type": "string"}], "type": "string"})", "combined with 'type'");
}

}  // namespace
}  // namespace tessera

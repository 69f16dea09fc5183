// Forced tool calls: the grammar accepts calls in the model's syntax (Qwen3 JSON, Qwen3.5 XML)
// whose arguments follow the tool's schema, rejects others, and random generations with the real
// Qwen3 vocabulary always parse into a listed tool with valid arguments.
#include "engine/tool_call_grammar.h"

#include "grammar_test_util.h"
#include "random_walk.h"
#include "schema_validator.h"
#include "util/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera {
namespace {

using testing::Json;
using testing::matches;
using testing::share;
using testing::validates;

const Json& tools() {
  static const Json t = Json::parse(R"([
    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
      "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                     "days": {"type": "integer", "minimum": 1, "maximum": 7},
                     "unit": {"type": "string", "enum": ["c", "f"]}},
                     "required": ["city"]}}},
    {"type": "function", "function": {"name": "set_alarm",
      "parameters": {"type": "object", "properties": {"at": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 59}, "minItems": 1, "maxItems": 2},
                     "label": {"type": ["string", "null"], "maxLength": 8}}, "required": ["at", "label"], "additionalProperties": false}}}
  ])");
  return t;
}

const Json* parameters_of(const std::string& name) {
  for (const Json& t : tools())
    if (t["function"]["name"] == name) return &t["function"]["parameters"];
  return nullptr;
}

TEST(ToolCallGrammar, JsonForm) {
  auto g = share(tool_call_grammar(tools(), ToolCallFormat::kJson, std::nullopt, false));
  EXPECT_TRUE(matches(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call>"));
  EXPECT_TRUE(matches(g, "<tool_call>\n{\"name\": \"set_alarm\", \"arguments\": {\"at\": [7, 30], \"label\": null}}\n</tool_call>"));
  EXPECT_FALSE(matches(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"days\": 3}}\n</tool_call>"));  // city missing
  EXPECT_FALSE(matches(g, "<tool_call>\n{\"name\": \"nope\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_FALSE(matches(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"a\", \"days\": 8}}\n</tool_call>"));
  const std::string one = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"x\"}}\n</tool_call>";
  EXPECT_FALSE(matches(g, one + "\n" + one));  // not parallel
  auto parallel = share(tool_call_grammar(tools(), ToolCallFormat::kJson, std::nullopt, true));
  EXPECT_TRUE(matches(parallel, one + "\n" + one));
  auto forced = share(tool_call_grammar(tools(), ToolCallFormat::kJson, std::string("set_alarm"), false));
  EXPECT_FALSE(matches(forced, one));
  EXPECT_TRUE(matches(forced, "<tool_call>\n{\"name\": \"set_alarm\", \"arguments\": {\"at\": [0], \"label\": \"up\"}}\n</tool_call>"));
}

TEST(ToolCallGrammar, QwenXmlForm) {
  auto g = share(tool_call_grammar(tools(), ToolCallFormat::kQwenXml, std::nullopt, false));
  EXPECT_TRUE(matches(g, "<tool_call>\n<function=get_weather>\n<parameter=city>\nNew York\n</parameter>\n"
                         "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>"));
  EXPECT_TRUE(matches(g, "<tool_call>\n<function=get_weather>\n<parameter=city>\nab\ncd <e>\n</parameter>\n"
                         "<parameter=unit>\nf\n</parameter>\n</function>\n</tool_call>"));
  EXPECT_TRUE(matches(g, "<tool_call>\n<function=set_alarm>\n<parameter=at>\n[5, 6]\n</parameter>\n"
                         "<parameter=label>\nnull\n</parameter>\n</function>\n</tool_call>"));
  EXPECT_FALSE(matches(g, "<tool_call>\n<function=get_weather>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>"));
  EXPECT_FALSE(matches(g, "<tool_call>\n<function=get_weather>\n<parameter=city>\nP\n</parameter>\n"
                          "<parameter=unit>\nk\n</parameter>\n</function>\n</tool_call>"));  // enum
  EXPECT_FALSE(matches(g, "<tool_call>\n<function=get_weather>\n<parameter=city>\na\n<b\n</parameter>\n</function>\n</tool_call>"));
  EXPECT_FALSE(matches(g, "<tool_call>\n<function=set_alarm>\n<parameter=at>\n[60]\n</parameter>\n"
                          "<parameter=label>\nnull\n</parameter>\n</function>\n</tool_call>"));
}

TEST(ToolCallGrammar, XmlRawTextMayHoldBlankLinesButNoTagLines) {
  const Json note = Json::parse(R"([{"type": "function", "function": {"name": "note", "parameters": {"type": "object",
                                    "properties": {"text": {"type": "string"}}, "required": ["text"]}}}])");
  auto g = share(tool_call_grammar(note, ToolCallFormat::kQwenXml, std::nullopt, false));
  auto call = [](const std::string& value) {
    return "<tool_call>\n<function=note>\n<parameter=text>\n" + value + "\n</parameter>\n</function>\n</tool_call>";
  };
  EXPECT_TRUE(matches(g, call("line one\n\nline <two> \xC3\xA9")));
  EXPECT_TRUE(matches(g, call("")));
  EXPECT_FALSE(matches(g, call("a\n</parameter>\nb")));
  EXPECT_FALSE(matches(g, call("bad \xC3")));  // broken UTF-8
}

TEST(ToolCallGrammar, RefusesBadToolsAndNames) {
  auto refused = [](const Json& t, ToolCallFormat f, std::optional<std::string> name, const char* fragment) {
    try {
      tool_call_grammar(t, f, name, false);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(fragment));
    }
  };
  refused(tools(), ToolCallFormat::kJson, std::string("missing"), "'missing'");
  refused(tools(), ToolCallFormat::kNone, std::nullopt, "cannot render tool calls");
  refused(Json::array(), ToolCallFormat::kJson, std::nullopt, "non-empty");
  refused(Json::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
            "properties": {"p": {"type": "string", "format": "email"}}}}}])"), ToolCallFormat::kJson, std::nullopt, "'format'");
}

// Parses one call of either form into (name, arguments); nullopt if it does not parse.
std::optional<std::pair<std::string, Json>> parse_call(std::string text, ToolCallFormat format) {
  const std::string open = "<tool_call>\n", close = "\n</tool_call>";
  if (text.rfind(open, 0) != 0 || text.size() < open.size() + close.size() || text.substr(text.size() - close.size()) != close)
    return std::nullopt;
  text = text.substr(open.size(), text.size() - open.size() - close.size());
  if (format == ToolCallFormat::kJson) {
    const Json call = Json::parse(text);
    return std::make_pair(call.at("name").get<std::string>(), call.at("arguments"));
  }
  const size_t name_end = text.find(">\n");
  if (text.rfind("<function=", 0) != 0 || name_end == std::string::npos) return std::nullopt;
  const std::string name = text.substr(10, name_end - 10);
  const Json* params = parameters_of(name);
  if (!params) return std::nullopt;
  Json args = Json::object();
  size_t pos = name_end + 2;
  while (text.compare(pos, 11, "<parameter=") == 0) {
    const size_t key_end = text.find(">\n", pos);
    const std::string key = text.substr(pos + 11, key_end - pos - 11);
    const size_t value_end = text.find("\n</parameter>\n", key_end + 2);
    if (value_end == std::string::npos) return std::nullopt;
    const std::string raw = text.substr(key_end + 2, value_end - key_end - 2);
    const Json& schema = (*params)["properties"][key];
    args[key] = schema.contains("type") && schema["type"] == "string" ? Json(raw) : Json::parse(raw);
    pos = value_end + 14;
  }
  if (text.substr(pos) != "</function>") return std::nullopt;
  return std::make_pair(name, args);
}

TEST(ToolCallGrammar, RandomCallsParseIntoValidArguments) {
  std::mt19937_64 rng(42);
  for (ToolCallFormat format : {ToolCallFormat::kJson, ToolCallFormat::kQwenXml}) {
    auto g = share(tool_call_grammar(tools(), format, std::nullopt, false));
    int finished = 0;
    for (int i = 0; i < 30; ++i) {
      const testing::Walk walk = testing::random_walk(g, rng, 600);
      if (!walk.finished) continue;
      ++finished;
      std::optional<std::pair<std::string, Json>> call;
      ASSERT_NO_THROW(call = parse_call(walk.text, format)) << walk.text;
      ASSERT_TRUE(call) << walk.text;
      const Json* params = parameters_of(call->first);
      ASSERT_NE(params, nullptr) << walk.text;
      EXPECT_TRUE(validates(call->second, *params, *params)) << walk.text;
    }
    EXPECT_GE(finished, 25) << to_string(format);
  }
}

}  // namespace
}  // namespace tessera

// Tool-call parsing on text (chat/tool_call_parser): both formats, several and parallel calls,
// value typing from the schema, malformed blocks, and streaming at every split point == one-shot.
// The round-trip tests render calls through the real Qwen3.5 / Qwen3 templates (whose
// rendering jinja_oracle_test.py checks against Python Jinja2) and parse them back.
#include "chat/chat_template.h"
#include "chat/tool_call_parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tessera {
namespace {

using ojson = nlohmann::ordered_json;

const std::filesystem::path kTokenizers = std::filesystem::path(TESSERA_SHARED_DIR) / "data" / "tokenizers";

ojson weather_tool() {
  return ojson::parse(R"({"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {
      "city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"},
      "ratio": {"type": "number"}, "tags": {"type": "array"}, "opts": {"type": "object"},
      "maybe": {"type": ["integer", "null"]}, "code": {"type": "string"}, "free": {}}}}})");
}

ojson search_tool() {
  return ojson::parse(R"({"type": "function", "function": {"name": "search",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}})");
}

ToolSet tools() { return ToolSet(ojson::array({weather_tool(), search_tool()})); }

// The calls as (name, arguments parsed back into JSON), so tests compare values, not spacing.
std::vector<std::pair<std::string, ojson>> calls_of(const std::vector<ToolCall>& calls) {
  std::vector<std::pair<std::string, ojson>> out;
  for (const ToolCall& c : calls) out.emplace_back(c.name, ojson::parse(c.arguments));
  return out;
}

ParsedToolOutput parse_xml(const std::string& text) { return parse_tool_calls(text, ToolCallFormat::kQwenXml, tools()); }
ParsedToolOutput parse_json(const std::string& text) { return parse_tool_calls(text, ToolCallFormat::kJson, tools()); }

TEST(ToolCallParser, XmlSingleCallWithStringValue) {
  const auto r = parse_xml("<tool_call>\n<function=search>\n<parameter=query>\nbest pizza\n</parameter>\n</function>\n</tool_call>");
  EXPECT_EQ(r.content, "");
  ASSERT_EQ(r.tool_calls.size(), 1u);
  EXPECT_EQ(r.tool_calls[0].name, "search");
  EXPECT_EQ(ojson::parse(r.tool_calls[0].arguments), ojson({{"query", "best pizza"}}));
}

TEST(ToolCallParser, XmlValuesTakeTheirTypeFromTheSchema) {
  const std::string text =
      "<tool_call>\n<function=get_weather>\n"
      "<parameter=city>\n123\n</parameter>\n"           // declared string: stays "123"
      "<parameter=days>\n3\n</parameter>\n"             // integer
      "<parameter=metric>\nTrue\n</parameter>\n"        // boolean, as Python's str() writes it
      "<parameter=ratio>\n0.5\n</parameter>\n"          // number
      "<parameter=tags>\n[\"a\", 1]\n</parameter>\n"    // array
      "<parameter=opts>\n{\"x\": {\"y\": null}}\n</parameter>\n"  // object
      "<parameter=maybe>\nNone\n</parameter>\n"         // [integer, null]
      "<parameter=code>\nline 1\n  line 2\n\n</parameter>\n"     // multi-line string: one newline each side is format
      "<parameter=free>\nnot json\n</parameter>\n"      // untyped and not JSON: a string
      "<parameter=undeclared>\n{\"k\": false}\n</parameter>\n"   // not in the schema, parses as JSON
      "</function>\n</tool_call>";
  const auto r = parse_xml(text);
  ASSERT_EQ(r.tool_calls.size(), 1u) << r.content;
  const ojson expected = {{"city", "123"}, {"days", 3}, {"metric", true}, {"ratio", 0.5}, {"tags", ojson::array({"a", 1})},
                          {"opts", {{"x", {{"y", nullptr}}}}}, {"maybe", nullptr}, {"code", "line 1\n  line 2\n"},
                          {"free", "not json"}, {"undeclared", {{"k", false}}}};
  EXPECT_EQ(ojson::parse(r.tool_calls[0].arguments), expected);
  // Arguments keep the order the model wrote them in.
  EXPECT_EQ(r.tool_calls[0].arguments.find("\"city\""), 1u);
}

TEST(ToolCallParser, XmlValueOfTheWrongTypeFallsBackToJsonThenString) {
  const auto r = parse_xml("<tool_call>\n<function=get_weather>\n<parameter=days>\nthree\n</parameter>\n"
                           "<parameter=metric>\n1\n</parameter>\n</function>\n</tool_call>");
  ASSERT_EQ(r.tool_calls.size(), 1u);
  EXPECT_EQ(ojson::parse(r.tool_calls[0].arguments), ojson({{"days", "three"}, {"metric", 1}}));
}

TEST(ToolCallParser, XmlMissingParameterCloseEndsAtTheNextParameter) {
  const auto r = parse_xml("<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n<parameter=days>\n2\n"
                           "</function>\n</tool_call>");
  ASSERT_EQ(r.tool_calls.size(), 1u);
  EXPECT_EQ(ojson::parse(r.tool_calls[0].arguments), ojson({{"city", "Oslo"}, {"days", 2}}));
}

TEST(ToolCallParser, ContentBeforeAndBetweenCallsAndParallelCalls) {
  const std::string call1 = "<tool_call>\n<function=search>\n<parameter=query>\nA\n</parameter>\n</function>\n</tool_call>";
  const std::string call2 = "<tool_call>\n<function=get_weather>\n<parameter=city>\nB\n</parameter>\n</function>\n</tool_call>";
  const auto r = parse_xml("Let me look.\n\n" + call1 + "\n" + call2);
  EXPECT_EQ(r.content, "Let me look.");
  ASSERT_EQ(r.tool_calls.size(), 2u);
  EXPECT_EQ(calls_of(r.tool_calls),
            (std::vector<std::pair<std::string, ojson>>{{"search", {{"query", "A"}}}, {"get_weather", {{"city", "B"}}}}));
  // Text after the calls is content too (joined where the calls were).
  const auto r2 = parse_xml("x " + call1 + " y");
  EXPECT_EQ(r2.content, "xy");
  EXPECT_EQ(r2.tool_calls.size(), 1u);
}

TEST(ToolCallParser, JsonCalls) {
  const auto r = parse_json("I'll check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n"
                            "</tool_call>\n<tool_call>\n{\"name\": \"search\", \"arguments\": \"{\\\"query\\\": \\\"q\\\"}\"}\n</tool_call>");
  EXPECT_EQ(r.content, "I'll check.");
  EXPECT_EQ(calls_of(r.tool_calls), (std::vector<std::pair<std::string, ojson>>{
                                        {"get_weather", {{"city", "Paris"}, {"days", 2}}}, {"search", {{"query", "q"}}}}));
  const auto no_args = parse_json("<tool_call>{\"name\": \"search\"}</tool_call>");
  ASSERT_EQ(no_args.tool_calls.size(), 1u);
  EXPECT_EQ(no_args.tool_calls[0].arguments, "{}");
}

TEST(ToolCallParser, JsonValuesOfEveryType) {
  const ojson args = {{"s", "é \"q\" \\n"}, {"i", -7}, {"f", 1.25}, {"t", true}, {"n", nullptr}, {"a", {1, "2", false}},
                      {"o", {{"deep", {{"er", ojson::array()}}}}}};
  const auto r = parse_json("<tool_call>\n{\"name\": \"search\", \"arguments\": " + args.dump() + "}\n</tool_call>");
  ASSERT_EQ(r.tool_calls.size(), 1u);
  EXPECT_EQ(ojson::parse(r.tool_calls[0].arguments), args);
}

TEST(ToolCallParser, MalformedBlocksStayContent) {
  const std::vector<std::string> xml_cases = {
      "<tool_call>\n<function=unknown_tool>\n</function>\n</tool_call>",  // not one of the tools
      "<tool_call>\n<function=search\n</tool_call>",                       // no '>'
      "<tool_call>\nsearch(query='x')\n</tool_call>",                      // not the format
      "<tool_call>\n<function=search>\n<parameter=query>\nx\n</parameter>\n",  // cut off
      "<tool_call>\n<function=search>\ngarbage<parameter=query>\nx\n</parameter>\n</function>\n</tool_call>",
  };
  for (const std::string& text : xml_cases) {
    const auto r = parse_xml("before " + text);
    EXPECT_TRUE(r.tool_calls.empty()) << text;
    EXPECT_EQ(r.content, "before " + text);
  }
  const std::vector<std::string> json_cases = {
      "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": }\n</tool_call>",
      "<tool_call>\n{\"arguments\": {}}\n</tool_call>",
      "<tool_call>\n{\"name\": \"search\", \"arguments\": [1]}\n</tool_call>",
      "<tool_call>\n{\"name\": \"search\", \"arguments\": \"not json\"}\n</tool_call>",
      "<tool_call>\n[\"search\"]\n</tool_call>",
  };
  for (const std::string& text : json_cases) {
    const auto r = parse_json(text + "\nafter");
    EXPECT_TRUE(r.tool_calls.empty()) << text;
    EXPECT_EQ(r.content, text + "\nafter");
  }
  // A malformed block does not stop a later good one.
  const auto r = parse_json("<tool_call>oops</tool_call><tool_call>{\"name\": \"search\", \"arguments\": {}}</tool_call>");
  EXPECT_EQ(r.content, "<tool_call>oops</tool_call>");
  EXPECT_EQ(r.tool_calls.size(), 1u);
}

TEST(ToolCallParser, TextWithoutCallsIsUntouched) {
  for (const std::string text : {"", "plain answer\n", "a < b and <tool", "  spaced  ", "<tool_call"}) {
    const auto r = parse_xml(text);
    EXPECT_EQ(r.content, text);
    EXPECT_TRUE(r.tool_calls.empty());
  }
}

// Streaming: every split of the text into two pieces, and byte by byte, gives the one-shot result.
void expect_streaming_matches(const std::string& text, ToolCallFormat format) {
  const ParsedToolOutput whole = parse_tool_calls(text, format, tools());
  auto collect = [&](const std::vector<std::string>& pieces) {
    ToolCallStreamParser parser(format, tools());
    ParsedToolOutput out;
    auto take = [&](ToolCallStreamParser::Delta&& d) {
      out.content += d.content;
      for (ToolCallDelta& c : d.tool_calls) {
        EXPECT_EQ(c.index, static_cast<int>(out.tool_calls.size()));
        out.tool_calls.push_back(std::move(c.call));
      }
    };
    for (const std::string& p : pieces) take(parser.push(p));
    take(parser.flush());
    return out;
  };
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const ParsedToolOutput split = collect({text.substr(0, cut), text.substr(cut)});
    EXPECT_EQ(split.content, whole.content) << "cut at " << cut;
    EXPECT_EQ(calls_of(split.tool_calls), calls_of(whole.tool_calls)) << "cut at " << cut;
  }
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  const ParsedToolOutput by_byte = collect(bytes);
  EXPECT_EQ(by_byte.content, whole.content);
  EXPECT_EQ(calls_of(by_byte.tool_calls), calls_of(whole.tool_calls));
}

TEST(ToolCallStreamParser, EverySplitEqualsOneShot) {
  expect_streaming_matches("Checking.  \n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nRome\n</parameter>\n"
                           "<parameter=days>\n4\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=search>\n"
                           "<parameter=query>\n<b>bold</b>\n</parameter>\n</function>\n</tool_call>\n",
                           ToolCallFormat::kQwenXml);
  expect_streaming_matches("<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"</tool\"}}\n</tool_call>  tail <tool_c",
                           ToolCallFormat::kJson);
  expect_streaming_matches("a <tool_call>broken</tool_call> b <tool_call>\n{\"name\": \"search\"}", ToolCallFormat::kJson);
}

TEST(ToolCallStreamParser, ReleasesContentAsSoonAsItCannotBeACall) {
  ToolCallStreamParser parser(ToolCallFormat::kQwenXml, tools());
  EXPECT_EQ(parser.push("Hello <tool").content, "Hello");  // "<tool" and the space may precede a call
  EXPECT_EQ(parser.push("box>").content, " <toolbox>");
  auto d = parser.push("<tool_call>\n<function=search>\n</function>\n");
  EXPECT_EQ(d.content, "");
  EXPECT_TRUE(d.tool_calls.empty());
  d = parser.push("</tool_call>");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_EQ(d.tool_calls[0].index, 0);
  EXPECT_EQ(d.tool_calls[0].call.name, "search");
  EXPECT_EQ(parser.calls(), 1);
}

// History → template → parser: a call rendered by the model's own template parses back to itself.
void expect_round_trip(const std::string& family, ToolCallFormat format) {
  const ChatTemplate tpl = ChatTemplate::from_model_dir(kTokenizers / family);
  ASSERT_EQ(detect_tool_call_format(tpl.source()), format);
  const ojson args1 = {{"city", "New York"}, {"days", 3}, {"metric", false}, {"ratio", 2.5}, {"tags", {"x", "y"}},
                       {"opts", {{"k", "v"}}}};
  const ojson args2 = {{"query", "multi\nline"}};
  const ojson context = {
      {"messages",
       {{{"role", "user"}, {"content", "Q"}},
        {{"role", "assistant"},
         {"content", ""},
         {"tool_calls",
          {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", args1}}}},
           {{"type", "function"}, {"function", {{"name", "search"}, {"arguments", args2}}}}}}}}},
      {"tools", {weather_tool(), search_tool()}},
      {"add_generation_prompt", false}};
  const std::string prompt = tpl.render(context);
  // The assistant turn's text, as the model would have written it.
  const size_t start = prompt.rfind("<|im_start|>assistant\n") + std::string("<|im_start|>assistant\n").size();
  std::string turn = prompt.substr(start, prompt.rfind("<|im_end|>") - start);
  if (const size_t think_end = turn.find("</think>\n\n"); think_end != std::string::npos) turn.erase(0, think_end + 10);
  const ParsedToolOutput r = parse_tool_calls(turn, format, tools());
  EXPECT_EQ(r.content, "") << turn;
  EXPECT_EQ(calls_of(r.tool_calls),
            (std::vector<std::pair<std::string, ojson>>{{"get_weather", args1}, {"search", args2}})) << turn;
}

TEST(ToolCallParser, RoundTripThroughQwen35Template) { expect_round_trip("qwen3.5", ToolCallFormat::kQwenXml); }
TEST(ToolCallParser, RoundTripThroughQwen3Template) { expect_round_trip("qwen3", ToolCallFormat::kJson); }

TEST(ToolCallFormat, DetectedFromTheTemplates) {
  EXPECT_EQ(detect_tool_call_format("{{ messages }}"), ToolCallFormat::kNone);
  EXPECT_EQ(detect_tool_call_format("<tool_call>\n<function={{ name }}>"), ToolCallFormat::kQwenXml);
  EXPECT_EQ(detect_tool_call_format("<tool_call>\n{\"name\": \"x\", \"arguments\": {}}"), ToolCallFormat::kJson);
}

}  // namespace
}  // namespace tessera

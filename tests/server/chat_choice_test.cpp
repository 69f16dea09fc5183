// The server side of tool calling on text: request validation (server/tool_schema via
// parse_chat_completion), one choice assembled from streamed deltas (server/chat_choice) and the
// OpenAI response shapes (server/openai_response), plus the other parameters of issue 12
// (logit_bias, n, ignored parameters, request defaults). End to end over HTTP: tools_test.py.
#include "engine/sampler.h"
#include "server/api_error.h"
#include "server/chat_choice.h"
#include "server/openai_response.h"
#include "server/openai_schema.h"
#include "server/request_defaults.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tessera::server {
namespace {

using Json = nlohmann::ordered_json;

const Json kTools = Json::parse(R"([{"type": "function", "function": {"name": "search",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}}}}}])");

Json request(Json extra) {
  Json body = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  for (auto& [key, value] : extra.items()) body[key] = value;
  return body;
}

// The param of the 400 that parsing `body` gives ("" when it parses).
std::string rejected_param(const Json& body) {
  try {
    parse_chat_completion(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.param();
  }
  return "";
}

TEST(ToolParams, ParsedAndValidated) {
  const ChatCompletionParams p = parse_chat_completion(request(
      {{"tools", kTools}, {"tool_choice", {{"type", "function"}, {"function", {{"name", "search"}}}}}, {"parallel_tool_calls", false}}));
  EXPECT_EQ(p.tools.tools, kTools);
  EXPECT_EQ(p.tools.choice, ToolChoice::kNamed);
  EXPECT_EQ(p.tools.forced_name, "search");
  EXPECT_FALSE(p.tools.parallel);
  EXPECT_TRUE(p.tools.active());
  EXPECT_FALSE(parse_chat_completion(request({{"tools", kTools}, {"tool_choice", "none"}})).tools.active());
  EXPECT_EQ(parse_chat_completion(request({{"tools", kTools}, {"tool_choice", "required"}})).tools.choice, ToolChoice::kRequired);

  EXPECT_EQ(rejected_param(request({{"tools", "x"}})), "tools");
  EXPECT_EQ(rejected_param(request({{"tools", {{{"type", "function"}}}}})), "tools[0].function");
  EXPECT_EQ(rejected_param(request({{"tools", {{{"type", "function"}, {"function", {{"name", 3}}}}}}})), "tools[0].function.name");
  EXPECT_EQ(rejected_param(request({{"tools", {kTools[0], kTools[0]}}})), "tools[1].function.name");  // twice
  EXPECT_EQ(rejected_param(request({{"tools", kTools}, {"tool_choice", "always"}})), "tool_choice");
  EXPECT_EQ(rejected_param(request({{"tools", kTools}, {"tool_choice", {{"type", "function"}, {"function", {{"name", "nope"}}}}}})),
            "tool_choice");
  EXPECT_EQ(rejected_param(request({{"tool_choice", "required"}})), "tool_choice");
  EXPECT_EQ(rejected_param(request({{"parallel_tool_calls", 1}})), "parallel_tool_calls");
}

TEST(ToolParams, HistoryArgumentsStringsBecomeObjects) {
  const Json messages = Json::parse(R"([
    {"role": "user", "content": "q"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_a", "type": "function", "function": {"name": "search", "arguments": "{\"query\": \"x\", \"limit\": 3}"}},
      {"id": "call_b", "type": "function", "function": {"name": "search", "arguments": ""}},
      {"id": "call_c", "type": "function", "function": {"name": "search", "arguments": {"query": "already an object"}}}]},
    {"role": "tool", "tool_call_id": "call_a", "content": "result"}])");
  const ChatCompletionParams p = parse_chat_completion({{"messages", messages}});
  const Json& calls = p.messages[1]["tool_calls"];
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0]["function"]["arguments"], Json::parse(R"({"query": "x", "limit": 3})"));
  EXPECT_EQ(calls[0]["function"]["arguments"].begin().key(), "query");  // order kept for |items
  EXPECT_EQ(calls[1]["function"]["arguments"], Json::object());
  EXPECT_EQ(calls[2]["function"]["arguments"], Json({{"query", "already an object"}}));
  EXPECT_EQ(calls[0]["id"], "call_a");
  EXPECT_EQ(p.messages[1]["content"], "");
  EXPECT_EQ(p.messages[2]["tool_call_id"], "call_a");

  Json bad = messages;
  bad[1]["tool_calls"][0]["function"]["arguments"] = "[1, 2]";
  EXPECT_EQ(rejected_param({{"messages", bad}}), "messages[1].tool_calls[0].function.arguments");
  bad[1]["tool_calls"][0]["function"]["arguments"] = "{broken";
  EXPECT_EQ(rejected_param({{"messages", bad}}), "messages[1].tool_calls[0].function.arguments");
  bad[1]["tool_calls"][0]["function"] = {{"arguments", "{}"}};
  EXPECT_EQ(rejected_param({{"messages", bad}}), "messages[1].tool_calls[0].function.name");
}

TEST(RequestParams, IgnoredLogitBiasAndN) {
  const ChatCompletionParams p = parse_chat_completion(request(
      {{"store", true}, {"metadata", {{"a", "b"}}}, {"reasoning_effort", "high"}, {"logit_bias", {{"42", -100}, {"7", 2.5}}}, {"n", 3}}));
  EXPECT_EQ(p.gen.ignored, (std::vector<std::string>{"store", "metadata", "reasoning_effort"}));
  EXPECT_EQ(p.gen.sampling.logit_bias, (std::vector<std::pair<int32_t, float>>{{42, -100.0f}, {7, 2.5f}}));
  EXPECT_EQ(p.gen.n, 3);
  EXPECT_EQ(rejected_param(request({{"logit_bias", {{"-1", 1}}}})), "logit_bias");
  EXPECT_EQ(rejected_param(request({{"logit_bias", {{"1", "x"}}}})), "logit_bias");
  EXPECT_EQ(rejected_param(request({{"logit_bias", {1, 2}}})), "logit_bias");
  EXPECT_EQ(rejected_param(request({{"n", 129}})), "n");
  EXPECT_EQ(rejected_param(request({{"top_p", "high"}})), "top_p");  // known fields keep their types
}

TEST(Sampler, LogitBiasMovesGreedyChoice) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f};
  SamplingParams params;
  EXPECT_EQ(Sampler(params, 3).sample(logits, {}), 1);
  params.logit_bias = {{1, -100.0f}};
  EXPECT_EQ(Sampler(params, 3).sample(logits, {}), 2);
  params.logit_bias = {{0, 2.5f}, {99, 100.0f}};  // ids beyond the vocabulary are ignored
  EXPECT_EQ(Sampler(params, 3).sample(logits, {}), 0);
  params.temperature = 1.0f;  // a +100 bias makes sampling certain too
  params.logit_bias = {{2, 100.0f}};
  params.seed = 5;
  Sampler sampler(params, 3);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(sampler.sample(logits, {}), 2);
}

TEST(RequestDefaults, GenerationConfigThenRequest) {
  const auto dir = std::filesystem::temp_directory_path() / "tessera_request_defaults_test";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(generation_config_defaults(dir), Json::object());  // no file
  {
    std::ofstream(dir / "generation_config.json") << R"({"do_sample": true, "temperature": 0.7, "top_k": 20, "top_p": 0.8,
        "repetition_penalty": 1.05, "eos_token_id": [1, 2], "max_new_tokens": 100})";
  }
  const Json defaults = generation_config_defaults(dir);
  EXPECT_EQ(defaults, Json::parse(R"({"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05})"));
  {
    std::ofstream(dir / "generation_config.json") << R"({"temperature": 0.7})";  // no do_sample: greedy, as HF
  }
  EXPECT_EQ(generation_config_defaults(dir), Json({{"temperature", 0}}));
  std::filesystem::remove_all(dir);

  Json body = {{"temperature", 0.1}, {"top_p", nullptr}};
  apply_request_defaults(body, defaults);
  EXPECT_EQ(body["temperature"], 0.1);  // the request's own value wins
  EXPECT_EQ(body["top_p"], 0.8);        // null counts as not given
  EXPECT_EQ(body["top_k"], 20);
}

TextDelta text(std::string content, std::string reasoning = "") {
  TextDelta d;
  d.content = std::move(content);
  d.reasoning = std::move(reasoning);
  return d;
}

ToolParams tool_params(bool parallel = true, ToolChoice choice = ToolChoice::kAuto) {
  ToolParams p;
  p.tools = kTools;
  p.parallel = parallel;
  p.choice = choice;
  return p;
}

const std::string kCall1 = "<tool_call>\n<function=search>\n<parameter=query>\ncats\n</parameter>\n<parameter=limit>\n5\n</parameter>\n</function>\n</tool_call>";
const std::string kCall2 = "<tool_call>\n<function=search>\n<parameter=query>\ndogs\n</parameter>\n</function>\n</tool_call>";

TEST(ChatChoiceBuilder, ReasoningContentAndCallsFromStreamedPieces) {
  ChatChoiceBuilder b(tool_params(), ToolCallFormat::kQwenXml);
  std::vector<ToolCallDelta> streamed;
  std::string content;
  const std::string all = "Let me search.\n\n" + kCall1 + "\n" + kCall2;
  ChatChoiceBuilder::Delta first = b.push(text("", "thinking"));
  EXPECT_EQ(first.reasoning, "thinking");
  for (size_t i = 0; i < all.size(); i += 7) {
    ChatChoiceBuilder::Delta d = b.push(text(all.substr(i, 7)));
    content += d.content;
    for (auto& c : d.tool_calls) streamed.push_back(c);
  }
  ChatChoiceBuilder::Delta tail = b.finish();
  content += tail.content;
  for (auto& c : tail.tool_calls) streamed.push_back(c);
  EXPECT_EQ(content, "Let me search.");
  EXPECT_EQ(b.content(), "Let me search.");
  EXPECT_EQ(b.reasoning(), "thinking");
  ASSERT_EQ(streamed.size(), 2u);
  EXPECT_EQ(streamed[0].index, 0);
  EXPECT_EQ(streamed[1].index, 1);
  ASSERT_EQ(b.tool_calls().size(), 2u);
  EXPECT_EQ(Json::parse(b.tool_calls()[0].arguments), Json({{"query", "cats"}, {"limit", 5}}));
  EXPECT_STREQ(b.finish_reason(FinishReason::kStop), "tool_calls");
  EXPECT_STREQ(b.finish_reason(FinishReason::kLength), "length");
}

TEST(ChatChoiceBuilder, ParallelFalseKeepsTheFirstCall) {
  ChatChoiceBuilder b(tool_params(/*parallel=*/false), ToolCallFormat::kQwenXml);
  const auto d = b.push(text(kCall1 + kCall2));
  EXPECT_EQ(d.tool_calls.size(), 1u);
  b.finish();
  ASSERT_EQ(b.tool_calls().size(), 1u);
  EXPECT_EQ(Json::parse(b.tool_calls()[0].arguments)["query"], "cats");
}

TEST(ChatChoiceBuilder, WithoutActiveToolsTextIsContent) {
  for (const ToolParams& p : {ToolParams{}, tool_params(true, ToolChoice::kNone)}) {
    ChatChoiceBuilder b(p, ToolCallFormat::kQwenXml);
    EXPECT_EQ(b.push(text(kCall1)).content, kCall1);
    EXPECT_TRUE(b.finish().empty());
    EXPECT_TRUE(b.tool_calls().empty());
    EXPECT_STREQ(b.finish_reason(FinishReason::kStop), "stop");
  }
}

TEST(OpenAiResponse, ToolCallMessageShape) {
  const ResponseHeader h{"chatcmpl-x", 1, "m"};
  ChatChoice with_calls{"", "why", {{"search", R"({"query":"cats"})"}}, "tool_calls", nullptr};
  ChatChoice plain{"hello", "", {}, "stop", nullptr};
  SequenceStats stats;
  stats.prompt_tokens = 5;
  stats.completion_tokens = 9;
  const Json r = chat_completion_json(h, {with_calls, plain}, stats);
  const Json& m = r["choices"][0]["message"];
  EXPECT_TRUE(m["content"].is_null());
  EXPECT_EQ(m["reasoning_content"], "why");
  EXPECT_EQ(m["reasoning"], "why");
  ASSERT_EQ(m["tool_calls"].size(), 1u);
  const Json& call = m["tool_calls"][0];
  EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u);
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"], Json({{"name", "search"}, {"arguments", R"({"query":"cats"})"}}));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(r["choices"][1]["index"], 1);
  EXPECT_EQ(r["choices"][1]["message"], Json({{"role", "assistant"}, {"content", "hello"}}));
  EXPECT_EQ(r["usage"]["total_tokens"], 14);

  const Json delta = chat_delta_json("r", "c", {{2, {"search", "{}"}}});
  EXPECT_EQ(delta["reasoning"], "r");
  EXPECT_EQ(delta["reasoning_content"], "r");
  EXPECT_EQ(delta["content"], "c");
  EXPECT_EQ(delta["tool_calls"][0]["index"], 2);
  EXPECT_EQ(delta["tool_calls"][0]["type"], "function");
  EXPECT_EQ(delta["tool_calls"][0]["function"], Json({{"name", "search"}, {"arguments", "{}"}}));
  EXPECT_EQ(chat_chunk_json(h, delta, nullptr, nullptr, 3)["choices"][0]["index"], 3);
  EXPECT_TRUE(chat_delta_json("", "", {}).empty());
}

}  // namespace
}  // namespace tessera::server

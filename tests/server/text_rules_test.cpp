// Unit tests of the text rules behind the server: stop strings across token boundaries, the
// reasoning/content split, and request validation (engine/stop_strings, engine/reasoning_split,
// server/openai_schema). The HTTP behaviour end to end is in server_test.py.
#include "engine/reasoning_split.h"
#include "engine/stop_strings.h"
#include "server/api_error.h"
#include "server/openai_schema.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera {
namespace {

// Feeds `pieces` one at a time, as tokens arrive; returns the released text and whether it stopped.
std::pair<std::string, bool> run_stops(std::vector<std::string> stops, const std::vector<std::string>& pieces) {
  StopStringMatcher m(std::move(stops));
  std::string out;
  for (const std::string& p : pieces) {
    auto r = m.push(p);
    out += r.text;
    if (r.stopped) return {out, true};
  }
  return {out + m.flush(), false};
}

TEST(StopStrings, NoStopsPassesThrough) {
  EXPECT_EQ(run_stops({}, {"ab", "cd"}), std::make_pair(std::string("abcd"), false));
}

TEST(StopStrings, MatchSplitAcrossPieces) {
  EXPECT_EQ(run_stops({"<|user|>"}, {"Hello <|us", "er|> more"}), std::make_pair(std::string("Hello "), true));
}

TEST(StopStrings, HeldPrefixReleasedWhenRuledOut) {
  StopStringMatcher m({"STOP"});
  auto r = m.push("abST");
  EXPECT_EQ(r.text, "ab");  // "ST" could start "STOP"
  r = m.push("AR");
  EXPECT_EQ(r.text, "STAR");
  EXPECT_FALSE(r.stopped);
}

TEST(StopStrings, EarliestMatchWins) {
  EXPECT_EQ(run_stops({"c", "abc"}, {"xabcd"}), std::make_pair(std::string("x"), true));
  // "b" completes a piece before "abc" could: it wins, as in any per-token check.
  EXPECT_EQ(run_stops({"abc", "b"}, {"xa", "b", "c"}), std::make_pair(std::string("xa"), true));
}

TEST(StopStrings, FlushReleasesUnfinishedPrefix) {
  EXPECT_EQ(run_stops({"STOP"}, {"the ST"}), std::make_pair(std::string("the ST"), false));
}

TEST(StopStrings, MultibyteStop) {
  EXPECT_EQ(run_stops({"\xE4\xBD\xA0\xE5\xA5\xBD"}, {"a\xE4\xBD", "\xA0\xE5\xA5\xBD" "b"}), std::make_pair(std::string("a"), true));
}

ReasoningSplitter::Delta split_all(ReasoningSplitter::Start start, const std::vector<std::string>& pieces) {
  ReasoningSplitter s(start);
  ReasoningSplitter::Delta all;
  for (const std::string& p : pieces) {
    auto d = s.push(p);
    all.reasoning += d.reasoning;
    all.content += d.content;
  }
  auto d = s.flush();
  all.reasoning += d.reasoning;
  all.content += d.content;
  return all;
}

TEST(ReasoningSplit, PromptOpensThink) {
  EXPECT_TRUE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n"));
  EXPECT_TRUE(prompt_opens_reasoning("<think>a</think> x <think>"));
}

TEST(ReasoningSplit, InReasoningSplitsAtCloseTag) {
  auto d = split_all(ReasoningSplitter::Start::kInReasoning, {"Let me ", "think.\n</th", "ink>\n\n", "Answer."});
  EXPECT_EQ(d.reasoning, "Let me think.");
  EXPECT_EQ(d.content, "Answer.");
}

TEST(ReasoningSplit, InReasoningWithoutCloseIsAllReasoning) {
  auto d = split_all(ReasoningSplitter::Start::kInReasoning, {"\nhmm ", "still thinking  \n"});
  EXPECT_EQ(d.reasoning, "hmm still thinking");
  EXPECT_EQ(d.content, "");
}

TEST(ReasoningSplit, DetectOpeningTag) {
  auto d = split_all(ReasoningSplitter::Start::kDetect, {"<th", "ink>\nplan", "</think>\n\nHi"});
  EXPECT_EQ(d.reasoning, "plan");
  EXPECT_EQ(d.content, "Hi");
}

TEST(ReasoningSplit, DetectPlainAnswerKeepsEverything) {
  auto d = split_all(ReasoningSplitter::Start::kDetect, {"<t", "able> </think>"});
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "<table> </think>");
  d = split_all(ReasoningSplitter::Start::kDetect, {"\n\nHello"});
  EXPECT_EQ(d.content, "\n\nHello");
}

TEST(ReasoningSplit, StreamingEqualsOneShot) {
  const std::string text = "a b\n c </think>\n d e </think> f";
  auto one = split_all(ReasoningSplitter::Start::kInReasoning, {text});
  std::vector<std::string> chars;
  for (char c : text) chars.emplace_back(1, c);
  auto many = split_all(ReasoningSplitter::Start::kInReasoning, chars);
  EXPECT_EQ(one.reasoning, many.reasoning);
  EXPECT_EQ(one.content, many.content);
  EXPECT_EQ(one.content, "d e </think> f");
}

using server::ApiError;
using Json = nlohmann::ordered_json;

int status_of(const std::string& body) {
  try {
    server::parse_chat_completion(server::parse_json_object(body));
    return 200;
  } catch (const ApiError& e) {
    return e.status();
  }
}

TEST(OpenAiSchema, ChatParameters) {
  const auto p = server::parse_chat_completion(Json::parse(R"({
      "model": "m", "messages": [{"role": "developer", "content": "be brief"},
                                 {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
      "max_completion_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": -1, "min_p": 0.1, "seed": 3,
      "stop": "x", "presence_penalty": 1, "frequency_penalty": -1, "repetition_penalty": 1.1, "stream": true,
      "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 2, "n": 1,
      "chat_template_kwargs": {"enable_thinking": false}, "user": "u", "max_tokens": null})"));
  EXPECT_EQ(p.gen.max_tokens, 7);
  EXPECT_FLOAT_EQ(p.gen.sampling.temperature, 0.5f);
  EXPECT_EQ(p.gen.sampling.top_k, 0);
  EXPECT_EQ(p.gen.sampling.seed, 3u);
  EXPECT_EQ(p.gen.stop, std::vector<std::string>{"x"});
  EXPECT_TRUE(p.gen.stream && p.gen.include_usage);
  EXPECT_EQ(p.gen.top_logprobs, 2);
  EXPECT_EQ(p.messages[0]["role"], "system");
  EXPECT_EQ(p.messages[1]["content"], "a\nb");
  EXPECT_EQ(p.template_kwargs["enable_thinking"], false);
}

TEST(OpenAiSchema, Rejections) {
  const std::string m = R"("messages": [{"role": "user", "content": "hi"}])";
  EXPECT_EQ(status_of("{" + m + "}"), 200);
  EXPECT_EQ(status_of("{" + m), 400);
  EXPECT_EQ(status_of("[]"), 400);
  EXPECT_EQ(status_of("{}"), 400);
  EXPECT_EQ(status_of(R"({"messages": []})"), 400);
  for (const char* bad : {R"("temperature": -1)", R"("temperature": 2.5)", R"("temperature": "0")", R"("top_p": 0)",
                          R"("top_p": 1.5)", R"("max_tokens": 0)", R"("max_tokens": 1.5)", R"("n": 0)", R"("stop": 3)",
                          R"("stream_options": {"include_usage": true})", R"("top_logprobs": 2)", R"("n": 1.5)",
                          R"("presence_penalty": 3)", R"("repetition_penalty": 0)", R"("min_p": 2)"})
    EXPECT_EQ(status_of("{" + m + ", " + bad + "}"), 400) << bad;
  EXPECT_EQ(status_of("{" + m + R"(, "unknown": 1})"), 200);  // ignored, with a warning in the log
  EXPECT_EQ(status_of(R"({"messages": [{"role": "robot", "content": "x"}]})"), 400);
  EXPECT_EQ(status_of(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"), 400);
  EXPECT_EQ(status_of(R"({"messages": [{"role": "user"}]})"), 400);
  EXPECT_EQ(status_of(R"({"messages": [{"role": "assistant", "content": null}, {"role": "user", "content": "x"}]})"), 200);
}

TEST(OpenAiSchema, CompletionPrompt) {
  auto p = server::parse_completion(Json::parse(R"({"prompt": ["hello"], "logprobs": 3})"));
  EXPECT_EQ(p.prompt_text, "hello");
  EXPECT_EQ(p.gen.top_logprobs, 3);
  p = server::parse_completion(Json::parse(R"({"prompt": [1, 2, 3]})"));
  EXPECT_EQ(p.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_THROW(server::parse_completion(Json::parse(R"({"prompt": ["a", "b"]})")), ApiError);
  EXPECT_THROW(server::parse_completion(Json::parse(R"({"prompt": "x", "echo": true})")), ApiError);
  EXPECT_THROW(server::parse_completion(Json::parse(R"({"max_tokens": 3})")), ApiError);
  // Another endpoint's parameter is ignored like any unknown one.
  EXPECT_EQ(server::parse_completion(Json::parse(R"({"prompt": "x", "messages": []})")).gen.ignored,
            (std::vector<std::string>{"messages"}));
}

}  // namespace
}  // namespace tessera

// Request bodies of the OpenAI API → validated parameter structs. Everything a client can get
// wrong is an ApiError 400 naming the parameter: malformed JSON, a wrong type, a value out of
// range (same ranges as OpenAI where it has them). Unknown parameters are ignored (see below).
// JSON null counts as "not given", as OpenAI's own clients send it that way.
//
// Supported (both endpoints): model (any string), max_tokens, temperature [0,2], top_p (0,1],
// top_k (-1 or 0 = off), min_p [0,1], seed, stop (string or ≤16 strings), presence_penalty and
// frequency_penalty [-2,2], repetition_penalty (0,10], stream, stream_options.include_usage,
// n [1,128], user, ignore_eos (vLLM/llama.cpp extension), logit_bias ({"token id": bias in
// [-100,100]}; ids are checked against the vocabulary when the request is built), response_format
// (response_format.h), use_prefix_cache (exo's; false computes the whole prompt and leaves no
// snapshot).
// Chat only: messages, max_completion_tokens, logprobs (bool), top_logprobs [0,20],
// chat_template_kwargs (object, e.g. {"enable_thinking": false}), tools, tool_choice,
// parallel_tool_calls (see tool_schema.h).
// Any other parameter (store, metadata, reasoning_effort, service_tier, ...: what peers accept
// and ignore) is accepted, ignored, and named in one warning line of the log; a known parameter
// of the wrong type or out of range is still a 400.
// Completions only: prompt (string, [string], or token ids), logprobs (int 0..5), echo (false).
#pragma once

#include "engine/sampler.h"
#include "server/response_format.h"
#include "server/tool_schema.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera::server {

struct GenerationParams {
  std::optional<int64_t> max_tokens;  // absent: up to the context size
  SamplingParams sampling;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool ignore_eos = false;
  int top_logprobs = -1;       // -1: no logprobs
  ResponseFormat response_format;
  int n = 1;                   // independent choices, seeds seed, seed+1, ...
  std::vector<std::string> ignored;  // parameters accepted but not used (logged once per request)
  bool use_prefix_cache = true;  // exo's opt-out of the prefix cache
};

struct ChatCompletionParams {
  GenerationParams gen;
  // Normalised for the template: content is always a string (text parts joined), "developer"
  // is "system" (OpenAI's newer name for it).
  nlohmann::ordered_json messages;
  nlohmann::ordered_json template_kwargs = nlohmann::ordered_json::object();
  ToolParams tools;
};

struct CompletionParams {
  GenerationParams gen;
  std::optional<std::string> prompt_text;
  std::vector<int32_t> prompt_tokens;  // when the prompt was given as token ids
};

// Parses `body` as a JSON object (400 on anything else).
nlohmann::ordered_json parse_json_object(const std::string& body);

ChatCompletionParams parse_chat_completion(const nlohmann::ordered_json& body);
CompletionParams parse_completion(const nlohmann::ordered_json& body);

}  // namespace tessera::server

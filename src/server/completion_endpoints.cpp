#include "server/completion_endpoints.h"

#include "chat/tool_call_format.h"
#include "engine/grammar_constraint.h"
#include "server/api_error.h"
#include "server/bench_stats.h"
#include "server/chat_choice.h"
#include "server/forced_tool_call.h"
#include "server/openai_response.h"
#include "server/request_context.h"
#include "server/request_defaults.h"
#include "server/sse.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>

namespace tessera::server {
namespace {

constexpr const char* kJson = "application/json";

bool failed(const Outcome& outcome) {
  return outcome.finish == FinishReason::kError || outcome.finish == FinishReason::kAborted;
}

// A non-streaming request gets no answer when its generation failed or its client left.
bool unanswered(const Outcome& outcome) { return failed(outcome) || outcome.finish == FinishReason::kCancelled; }

// A generation that failed after the request was accepted: our fault (500), or shutdown (503).
// A client that left is logged and counted as 499 (nginx's "client closed request"); nobody
// reads the response.
ApiError outcome_error(const Outcome& outcome) {
  if (outcome.finish == FinishReason::kCancelled)
    return ApiError(499, "the client closed the connection before the answer was complete", {}, "client_closed_request");
  const int status = outcome.finish == FinishReason::kAborted ? 503 : 500;
  return ApiError(status, "generation failed: " + outcome.error);
}

// Cancels the sequence if the handler leaves early (an exception), so no slot is orphaned.
struct CancelOnExit {
  std::shared_ptr<SequenceChannel> channel;
  ~CancelOnExit() {
    if (channel) channel->cancel();
  }
};

struct CancelAllOnExit {
  std::vector<std::shared_ptr<SequenceChannel>> channels;
  ~CancelAllOnExit() {
    for (const auto& channel : channels) channel->cancel();
  }
};

// The n choices of a request: n sequences of the same prompt, with seeds seed, seed+1, ... when
// a seed is given (independent random seeds otherwise).
// Each choice gets its own decoding constraint (a constraint follows one sequence's output):
// response_format's, or `forced_call`'s (a forced tool call; the two never come together).
std::vector<std::shared_ptr<SequenceChannel>> submit_choices(ServingContext& ctx, const GenerationParams& gen,
                                                             const PreparedPrompt& prompt,
                                                             const std::optional<Grammar>& forced_call = std::nullopt) {
  std::vector<SequenceRequest> requests;  // all validated before any is submitted
  for (int i = 0; i < gen.n; ++i) {
    requests.push_back(make_sequence_request(ctx, gen, prompt.tokens, prompt.reasoning));
    if (forced_call) requests.back().constraint = make_grammar_constraint(*forced_call, ctx.tokenizer);
    if (gen.sampling.seed) requests.back().sampling.seed = *gen.sampling.seed + static_cast<uint64_t>(i);
  }
  std::vector<std::shared_ptr<SequenceChannel>> channels;
  channels.reserve(requests.size());
  try {
    for (SequenceRequest& r : requests) channels.push_back(ctx.scheduler.submit(std::move(r)));
  } catch (...) {  // e.g. the queue filled up part way: nobody will read the choices already in
    for (const auto& channel : channels) channel->cancel();
    throw;
  }
  return channels;
}

// Usage of n choices: the prompt counts once (as OpenAI bills it), completions add up.
// The prompt (and the part of it the prefix cache supplied) is reported as the first choice saw it.
void add_choice_usage(SequenceStats& total, const SequenceStats& choice) {
  const int64_t completion_tokens = total.completion_tokens + choice.completion_tokens;
  if (total.prompt_tokens == 0) total = choice;
  total.completion_tokens = completion_tokens;
}

// A non-streaming answer: gathers the deltas while watching the client's socket, so a client
// that hangs up stops the generation within a token (or 100 ms while the prompt is still
// being processed) instead of after max_tokens.
Outcome collect(SequenceChannel& channel, std::optional<ReasoningSplitter::Start> reasoning,
                const std::function<void(TextDelta&&)>& add) {
  return pump(
      channel, reasoning,
      [&](TextDelta&& d) {
        add(std::move(d));
        return request_context::client_connected();
      },
      [] { return request_context::client_connected(); }, std::chrono::milliseconds(100));
}

std::string dump(const OrderedJson& value) { return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// A streamed response: `body` writes its events; a thrown exception cancels the sequence and
// drops the connection. Returns whether the client is still there (httplib's provider contract).
template <class Body>
bool run_stream(httplib::DataSink& sink, SequenceChannel& channel, Body&& body) {
  SseWriter sse(sink);
  try {
    body(sse);
  } catch (const std::exception&) {
    channel.cancel();
    return false;
  }
  if (sse.ok()) sink.done();
  return sse.ok();
}

// The end of every stream: an error event, or the finish chunk (`send_finish`) and, when asked,
// the usage chunk of OpenAI object type `object`; then [DONE].
void end_stream(SseWriter& sse, const Outcome& outcome, const ResponseHeader& header, const char* object,
                bool include_usage, const std::function<void(const char* finish)>& send_finish) {
  if (failed(outcome)) {
    sse.send(outcome_error(outcome).body());
  } else if (outcome.finish != FinishReason::kCancelled) {
    send_finish(finish_reason_name(outcome.finish));
    if (include_usage)
      sse.send(OrderedJson{{"id", header.id}, {"object", object}, {"created", header.created}, {"model", header.model},
                           {"choices", OrderedJson::array()}, {"usage", usage_json(outcome.stats)}});
  }
  sse.send_done();
}

}  // namespace

void CompletionEndpoints::record(const Outcome& outcome) {
  metrics_.add_sequence(outcome.stats);
  request_context::note_tokens(outcome.stats.prompt_tokens, outcome.stats.completion_tokens);
  if (outcome.finish == FinishReason::kCancelled) metrics_.count_cancelled();
}

void CompletionEndpoints::chat(const std::string& raw_body, httplib::Response& res) {
  nlohmann::ordered_json body = parse_json_object(raw_body);
  apply_request_defaults(body, ctx_.request_defaults);
  const ChatCompletionParams params = parse_chat_completion(body);
  const PreparedPrompt prompt = prepare_chat_prompt(ctx_, params);
  const ResponseHeader header = new_response_header("chatcmpl-", model_id_);
  const ToolCallFormat format = detect_tool_call_format(ctx_.chat_template.source());
  const std::optional<Grammar> forced_call = forced_tool_call_grammar(params.tools, format, prompt.reasoning);
  std::vector<std::shared_ptr<SequenceChannel>> channels = submit_choices(ctx_, params.gen, prompt, forced_call);
  const int top_logprobs = params.gen.top_logprobs;

  if (!params.gen.stream) {
    CancelAllOnExit guard{channels};
    std::vector<ChatChoice> choices;
    SequenceStats usage;
    for (const std::shared_ptr<SequenceChannel>& channel : channels) {
      ChatChoiceBuilder builder(params.tools, format);
      std::vector<TokenLogprob> logprobs;
      const Outcome outcome = collect(*channel, prompt.reasoning, [&](TextDelta&& d) {
        builder.push(d);
        for (TokenLogprob& lp : d.logprobs) logprobs.push_back(std::move(lp));
      });
      builder.finish();
      record(outcome);
      if (unanswered(outcome)) throw outcome_error(outcome);
      add_choice_usage(usage, outcome.stats);
      choices.push_back({builder.content(), builder.reasoning(), builder.tool_calls(), builder.finish_reason(outcome.finish),
                         top_logprobs >= 0 ? chat_logprobs_json(logprobs, ctx_.tokenizer) : OrderedJson(nullptr)});
    }
    res.set_content(dump(chat_completion_json(header, choices, usage)), kJson);
    return;
  }

  const bool include_usage = params.gen.include_usage;
  const ReasoningSplitter::Start reasoning = prompt.reasoning;
  const ToolParams tools = params.tools;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, channels, header, include_usage, reasoning, top_logprobs, tools, format](size_t, httplib::DataSink& sink) {
        return run_stream(sink, *channels.front(), [&](SseWriter& sse) {
          auto send_chunk = [&](OrderedJson delta, const OrderedJson& finish, const OrderedJson& lp, int index) {
            OrderedJson chunk = chat_chunk_json(header, std::move(delta), finish, lp, index);
            if (include_usage) chunk["usage"] = nullptr;  // OpenAI: null on all but the usage chunk
            return sse.send(chunk);
          };
          auto cancel_all = [&] {
            for (const auto& c : channels) c->cancel();
          };
          for (size_t i = 0; i < channels.size(); ++i)
            if (!send_chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr, static_cast<int>(i))) cancel_all();
          // With n > 1 the choices are streamed one after the other (each chunk names its index);
          // they are generated concurrently all the same.
          SequenceStats usage;
          for (size_t i = 0; i < channels.size(); ++i) {
            const int index = static_cast<int>(i);
            ChatChoiceBuilder builder(tools, format);
            auto send_delta = [&](const ChatChoiceBuilder::Delta& c, const OrderedJson& lp) {
              OrderedJson delta = chat_delta_json(c.reasoning, c.content, c.tool_calls);
              if (delta.empty() && lp.is_null()) return true;
              return send_chunk(std::move(delta), nullptr, lp, index);
            };
            const Outcome outcome = pump(
                *channels[i], reasoning,
                [&](TextDelta&& d) {
                  if (!sse.ok()) return false;
                  const bool with_lp = top_logprobs >= 0 && !d.logprobs.empty();
                  return send_delta(builder.push(d), with_lp ? chat_logprobs_json(d.logprobs, ctx_.tokenizer) : OrderedJson(nullptr));
                },
                [&] { return sse.heartbeat(); });
            const ChatChoiceBuilder::Delta tail = builder.finish();
            record(outcome);
            const bool ended_well = !failed(outcome) && outcome.finish != FinishReason::kCancelled;
            if (ended_well && sse.ok()) send_delta(tail, nullptr);
            add_choice_usage(usage, outcome.stats);
            auto send_finish = [&](const char*) { send_chunk(OrderedJson::object(), builder.finish_reason(outcome.finish), nullptr, index); };
            if (ended_well && i + 1 < channels.size()) {
              send_finish(nullptr);
              continue;
            }
            if (!ended_well) cancel_all();
            Outcome last = outcome;
            last.stats = usage;
            end_stream(sse, last, header, "chat.completion.chunk", include_usage, send_finish);
            return;
          }
        });
      },
      [channels](bool) {  // no-op for sequences that already ended
        for (const auto& c : channels) c->cancel();
      });
}

void CompletionEndpoints::completion(const std::string& raw_body, httplib::Response& res) {
  nlohmann::ordered_json body = parse_json_object(raw_body);
  apply_request_defaults(body, ctx_.request_defaults);
  const CompletionParams params = parse_completion(body);
  if (params.gen.n > 1) bad_request("n > 1 is supported on /v1/chat/completions only", "n");
  const PreparedPrompt prompt = prepare_completion_prompt(ctx_, params);
  SequenceRequest request = make_sequence_request(ctx_, params.gen, prompt.tokens);
  const ResponseHeader header = new_response_header("cmpl-", model_id_);
  std::shared_ptr<SequenceChannel> channel = ctx_.scheduler.submit(std::move(request));
  const int top_logprobs = params.gen.top_logprobs;

  if (!params.gen.stream) {
    CancelOnExit guard{channel};
    std::string text;
    std::vector<TokenLogprob> logprobs;
    const Outcome outcome = collect(*channel, std::nullopt, [&](TextDelta&& d) {
      text += d.content;
      for (TokenLogprob& lp : d.logprobs) logprobs.push_back(std::move(lp));
    });
    record(outcome);
    if (unanswered(outcome)) throw outcome_error(outcome);
    int64_t offset = 0;
    const OrderedJson lp = top_logprobs >= 0 ? completion_logprobs_json(logprobs, ctx_.tokenizer, offset) : OrderedJson(nullptr);
    res.set_content(dump(completion_json(header, text, finish_reason_name(outcome.finish), lp, outcome.stats)), kJson);
    return;
  }

  const bool include_usage = params.gen.include_usage;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, channel, header, include_usage, top_logprobs](size_t, httplib::DataSink& sink) {
        return run_stream(sink, *channel, [&](SseWriter& sse) {
          int64_t offset = 0;
          auto send_chunk = [&](const std::string& text, const OrderedJson& finish, const OrderedJson& lp) {
            OrderedJson chunk = completion_chunk_json(header, text, finish, lp);
            if (include_usage) chunk["usage"] = nullptr;
            return sse.send(chunk);
          };
          const Outcome outcome = pump(
              *channel, std::nullopt,
              [&](TextDelta&& d) {
                if (!sse.ok()) return false;
                const bool with_lp = top_logprobs >= 0 && !d.logprobs.empty();
                if (d.content.empty() && !with_lp) return true;
                return send_chunk(d.content, nullptr,
                                  with_lp ? completion_logprobs_json(d.logprobs, ctx_.tokenizer, offset) : OrderedJson(nullptr));
              },
              [&] { return sse.heartbeat(); });
          record(outcome);
          end_stream(sse, outcome, header, "text_completion", include_usage,
                     [&](const char* finish) { send_chunk("", finish, nullptr); });
        });
      },
      [channel](bool) { channel->cancel(); });
}

void CompletionEndpoints::bench(const std::string& raw_body, httplib::Response& res) {
  nlohmann::ordered_json body = parse_json_object(raw_body);
  body.erase("stream");  // always measured non-streaming
  body.erase("stream_options");
  apply_request_defaults(body, ctx_.request_defaults);
  // As exo's bench endpoint: generate exactly max_tokens unless told otherwise (use_prefix_cache
  // is a parameter of every endpoint).
  if (!body.contains("ignore_eos")) body["ignore_eos"] = true;
  const ChatCompletionParams params = parse_chat_completion(body);
  const PreparedPrompt prompt = prepare_chat_prompt(ctx_, params);
  SequenceRequest request = make_sequence_request(ctx_, params.gen, prompt.tokens, prompt.reasoning);
  const ResponseHeader header = new_response_header("chatcmpl-", model_id_);
  std::shared_ptr<SequenceChannel> channel = ctx_.scheduler.submit(std::move(request));
  CancelOnExit guard{channel};
  std::string content, reasoning;
  const Outcome outcome = collect(*channel, prompt.reasoning, [&](TextDelta&& d) {
    content += d.content;
    reasoning += d.reasoning;
  });
  record(outcome);
  if (unanswered(outcome)) throw outcome_error(outcome);

  OrderedJson out = chat_completion_json(header, content, reasoning, finish_reason_name(outcome.finish), nullptr, outcome.stats);
  const auto memory = gather_rank_memory(ctx_.scheduler, std::chrono::seconds(10));
  if (memory) metrics_.set_rank_memory(*memory);
  add_bench_stats(out, outcome.stats, memory);
  res.set_content(dump(out), kJson);
}

}  // namespace tessera::server

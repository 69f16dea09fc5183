#include "server/completion_endpoints.h"

#include "server/api_error.h"
#include "server/openai_response.h"
#include "server/sse.h"

#include <algorithm>
#include <functional>
#include <memory>

namespace tessera::server {
namespace {

constexpr const char* kJson = "application/json";

bool failed(const Outcome& outcome) {
  return outcome.finish == FinishReason::kError || outcome.finish == FinishReason::kAborted;
}

// A generation that failed after the request was accepted: our fault (500), or shutdown (503).
ApiError outcome_error(const Outcome& outcome) {
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
  metrics_.add_tokens(outcome.stats.prompt_tokens, outcome.stats.completion_tokens);
  if (outcome.finish == FinishReason::kCancelled) metrics_.count_cancelled();
}

void CompletionEndpoints::chat(const std::string& raw_body, httplib::Response& res) {
  const ChatCompletionParams params = parse_chat_completion(parse_json_object(raw_body));
  const PreparedPrompt prompt = prepare_chat_prompt(ctx_, params);
  SequenceRequest request = make_sequence_request(ctx_, params.gen, prompt.tokens, prompt.reasoning);
  const ResponseHeader header = new_response_header("chatcmpl-", model_id_);
  std::shared_ptr<SequenceChannel> channel = ctx_.scheduler.submit(std::move(request));
  const int top_logprobs = params.gen.top_logprobs;

  if (!params.gen.stream) {
    CancelOnExit guard{channel};
    std::string content, reasoning;
    std::vector<TokenLogprob> logprobs;
    const Outcome outcome = pump(*channel, prompt.reasoning, [&](TextDelta&& d) {
      content += d.content;
      reasoning += d.reasoning;
      for (TokenLogprob& lp : d.logprobs) logprobs.push_back(std::move(lp));
      return true;
    });
    record(outcome);
    if (failed(outcome)) throw outcome_error(outcome);
    const OrderedJson lp = top_logprobs >= 0 ? chat_logprobs_json(logprobs, ctx_.tokenizer) : OrderedJson(nullptr);
    res.set_content(dump(chat_completion_json(header, content, reasoning, finish_reason_name(outcome.finish), lp, outcome.stats)), kJson);
    return;
  }

  const bool include_usage = params.gen.include_usage;
  const ReasoningSplitter::Start reasoning = prompt.reasoning;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, channel, header, include_usage, reasoning, top_logprobs](size_t, httplib::DataSink& sink) {
        return run_stream(sink, *channel, [&](SseWriter& sse) {
          auto send_chunk = [&](OrderedJson delta, const OrderedJson& finish, const OrderedJson& lp) {
            OrderedJson chunk = chat_chunk_json(header, std::move(delta), finish, lp);
            if (include_usage) chunk["usage"] = nullptr;  // OpenAI: null on all but the usage chunk
            return sse.send(chunk);
          };
          if (!send_chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr)) channel->cancel();
          const Outcome outcome = pump(
              *channel, reasoning,
              [&](TextDelta&& d) {
                if (!sse.ok()) return false;
                OrderedJson delta = OrderedJson::object();
                if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
                if (!d.content.empty()) delta["content"] = d.content;
                const bool with_lp = top_logprobs >= 0 && !d.logprobs.empty();
                if (delta.empty() && !with_lp) return true;
                return send_chunk(std::move(delta), nullptr,
                                  with_lp ? chat_logprobs_json(d.logprobs, ctx_.tokenizer) : OrderedJson(nullptr));
              },
              [&] { return sse.heartbeat(); });
          record(outcome);
          end_stream(sse, outcome, header, "chat.completion.chunk", include_usage,
                     [&](const char* finish) { send_chunk(OrderedJson::object(), finish, nullptr); });
        });
      },
      [channel](bool) { channel->cancel(); });  // no-op when the sequence already ended
}

void CompletionEndpoints::completion(const std::string& raw_body, httplib::Response& res) {
  const CompletionParams params = parse_completion(parse_json_object(raw_body));
  const PreparedPrompt prompt = prepare_completion_prompt(ctx_, params);
  SequenceRequest request = make_sequence_request(ctx_, params.gen, prompt.tokens);
  const ResponseHeader header = new_response_header("cmpl-", model_id_);
  std::shared_ptr<SequenceChannel> channel = ctx_.scheduler.submit(std::move(request));
  const int top_logprobs = params.gen.top_logprobs;

  if (!params.gen.stream) {
    CancelOnExit guard{channel};
    std::string text;
    std::vector<TokenLogprob> logprobs;
    const Outcome outcome = pump(*channel, std::nullopt, [&](TextDelta&& d) {
      text += d.content;
      for (TokenLogprob& lp : d.logprobs) logprobs.push_back(std::move(lp));
      return true;
    });
    record(outcome);
    if (failed(outcome)) throw outcome_error(outcome);
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
  const ChatCompletionParams params = parse_chat_completion(body);
  const PreparedPrompt prompt = prepare_chat_prompt(ctx_, params);
  SequenceRequest request = make_sequence_request(ctx_, params.gen, prompt.tokens, prompt.reasoning);
  const ResponseHeader header = new_response_header("chatcmpl-", model_id_);
  std::shared_ptr<SequenceChannel> channel = ctx_.scheduler.submit(std::move(request));
  CancelOnExit guard{channel};
  std::string content, reasoning;
  const Outcome outcome = pump(*channel, prompt.reasoning, [&](TextDelta&& d) {
    content += d.content;
    reasoning += d.reasoning;
    return true;
  });
  record(outcome);
  if (failed(outcome)) throw outcome_error(outcome);

  OrderedJson out = chat_completion_json(header, content, reasoning, finish_reason_name(outcome.finish), nullptr, outcome.stats);
  const SequenceStats& s = outcome.stats;
  out["prompt_tokens"] = s.prompt_tokens;
  out["generation_tokens"] = s.completion_tokens;
  out["prompt_tps"] = s.prompt_seconds > 0 ? static_cast<double>(s.prompt_tokens) / s.prompt_seconds : 0.0;
  out["generation_tps"] = s.decode_seconds > 0 ? static_cast<double>(s.completion_tokens) / s.decode_seconds : 0.0;
  out["prompt_seconds"] = s.prompt_seconds;
  out["generation_seconds"] = s.decode_seconds;
  out["time_to_first_token_seconds"] = s.first_token_seconds;
  out["queue_seconds"] = s.queue_seconds;
  if (auto memory = gather_rank_memory(ctx_.scheduler, std::chrono::seconds(10))) {
    metrics_.set_rank_memory(*memory);
    OrderedJson per_rank = OrderedJson::array();
    int64_t peak = 0;
    for (const MemoryUsage& m : *memory) {
      per_rank.push_back(m.peak_resident_bytes);
      peak = std::max(peak, m.peak_resident_bytes);
    }
    out["peak_memory_bytes"] = peak;
    out["peak_memory_bytes_per_rank"] = std::move(per_rank);
  } else {
    out["peak_memory_bytes"] = nullptr;
    out["peak_memory_bytes_per_rank"] = nullptr;
  }
  res.set_content(dump(out), kJson);
}

}  // namespace tessera::server

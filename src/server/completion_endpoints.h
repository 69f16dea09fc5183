// The generating endpoints: POST /v1/chat/completions, /v1/completions and
// /bench/chat/completions. Each request: validate → prompt tokens → submit to the scheduler →
// either collect the whole answer or stream it as SSE chunks. The HTTP thread only waits on its
// sequence's channel; all model work happens on the scheduler's compute thread.
//
// A streaming client that disconnects is noticed at the next write (a token or, while none
// comes, a heartbeat every second) and its sequence is cancelled, which frees its engine slot
// within one scheduler round. A non-streaming client writes nothing until the end, so its
// socket is watched instead (request_context.h), with the same effect; its request is logged
// and counted with status 499 (client closed request).
#pragma once

#include "server/generation.h"
#include "server/metrics.h"
#include "server/serving_context.h"

#include <httplib.h>

#include <string>

namespace tessera::server {

class CompletionEndpoints {
 public:
  CompletionEndpoints(ServingContext& ctx, Metrics& metrics, std::string model_id)
      : ctx_(ctx), metrics_(metrics), model_id_(std::move(model_id)) {}

  // `body`: the raw request body (JSON, validated here).
  void chat(const std::string& body, httplib::Response& res);
  void completion(const std::string& body, httplib::Response& res);
  // Chat completion run non-streaming, plus prompt/generation throughput and peak memory.
  void bench(const std::string& body, httplib::Response& res);

 private:
  // Metrics and the access log's token counts for a finished sequence.
  void record(const Outcome& outcome, bool used_prefix_cache = true);

  ServingContext& ctx_;
  Metrics& metrics_;
  std::string model_id_;
};

}  // namespace tessera::server

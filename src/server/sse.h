// Server-sent events (the OpenAI streaming wire format) over an httplib chunked response:
// each event is "data: <json>\n\n", the stream ends with "data: [DONE]\n\n".
// A failed write means the client has gone; the caller cancels its sequence so the engine
// slot is freed at once. While nothing else is sent, heartbeat() writes an SSE comment line
// (ignored by clients) so a vanished client is noticed even before the first token.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>

namespace tessera::server {

class SseWriter {
 public:
  explicit SseWriter(httplib::DataSink& sink) : sink_(sink) {}

  bool send(const nlohmann::ordered_json& data);
  bool send_done();
  bool heartbeat();
  // False once any write failed: the connection is dead, later writes are skipped.
  bool ok() const { return ok_; }

 private:
  bool write(const std::string& bytes);

  httplib::DataSink& sink_;
  bool ok_ = true;
};

}  // namespace tessera::server

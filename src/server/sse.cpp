#include "server/sse.h"

namespace tessera::server {

bool SseWriter::write(const std::string& bytes) {
  if (!ok_) return false;
  // sink.write returns false when the socket write fails (peer closed or reset).
  ok_ = sink_.write(bytes.data(), bytes.size());
  return ok_;
}

bool SseWriter::send(const nlohmann::ordered_json& data) {
  // `replace`: a lone invalid byte in model output must not abort the whole stream.
  return write("data: " + data.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n\n");
}

bool SseWriter::send_done() { return write("data: [DONE]\n\n"); }

bool SseWriter::heartbeat() { return write(": keep-alive\n\n"); }

}  // namespace tessera::server

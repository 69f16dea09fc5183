// The HTTP front of `tessera serve` (rank 0 only). It binds and answers before the model is
// loaded — /health says 503 "loading" meanwhile — so orchestrators can watch a long load; the
// model endpoints go live when attach() hands over the loaded model.
//
// Routes: GET /health, GET /v1/models, GET /metrics, POST /v1/chat/completions,
// POST /v1/completions, POST /bench/chat/completions, and llama.cpp-style helpers
// POST /tokenize {"content"}, POST /detokenize {"tokens"}, POST /apply-template {"messages", "tools"?, "tool_choice"?,
// "chat_template_kwargs"?}.
// With an API key, everything but /health and /metrics needs "Authorization: Bearer KEY".
// Every failure is an OpenAI-shaped error: 400 bad request, 401, 404 unknown route, 413 body
// over the limit, 503 while loading or when the request queue is full (with Retry-After); an
// unexpected exception is a 500, never a crash.
// Every request gets one access log line (remote address, method, path, status, tokens, time);
// GET /health and /metrics only at debug level, as orchestrators poll them. With a CORS origin,
// every response carries Access-Control-Allow-* headers and OPTIONS preflights answer 204.
#pragma once

#include "server/metrics.h"
#include "server/serving_context.h"

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace tessera::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                         // 0: any free port (see port())
  std::string api_key;                     // empty: no authentication
  size_t max_body_bytes = 8u << 20;
  std::string model_id;                    // the name /v1/models reports and responses echo
  int http_threads = 64;                   // concurrent connections being served
  std::string cors_origin;                 // Access-Control-Allow-Origin ("*" or an origin); empty: no CORS
};

class CompletionEndpoints;

class ApiServer {
 public:
  explicit ApiServer(ServerOptions options);
  ~ApiServer();

  // Binds and starts accepting on a background thread. Throws tessera::Error if the address
  // cannot be bound.
  void start();
  int port() const { return port_; }
  const ServerOptions& options() const { return options_; }

  // The model is loaded: `context` (which must outlive stop()) serves the model endpoints.
  void attach(ServingContext& context);
  // Stops accepting, waits for in-flight handlers and joins the thread. Idempotent.
  void stop();

  Metrics& metrics() { return metrics_; }

 private:
  // `body` is the request body (empty for GET).
  using Handler = std::function<void(const httplib::Request&, const std::string& body, httplib::Response&)>;
  using BodyHandler = std::function<void(const std::string& body, httplib::Response&)>;
  // Adds authentication, the loading check and the exception-to-error mapping.
  Handler guarded(bool needs_auth, bool needs_model, Handler handler);
  void get(const std::string& path, bool needs_auth, const std::function<void(httplib::Response&)>& handler);
  void post(const std::string& path, const BodyHandler& handler);
  bool authorised(const httplib::Request& req) const;
  void add_routes();

  void health(httplib::Response& res) const;
  void models(httplib::Response& res) const;
  void metrics_text(httplib::Response& res);
  void tokenize(const std::string& body, httplib::Response& res);
  void detokenize(const std::string& body, httplib::Response& res);
  void apply_template(const std::string& body, httplib::Response& res);

  ServerOptions options_;
  int port_ = 0;
  int64_t created_ = 0;
  Metrics metrics_;
  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
  std::atomic<ServingContext*> context_{nullptr};
  std::unique_ptr<CompletionEndpoints> endpoints_;
};

}  // namespace tessera::server

#include "server/http_server.h"

#include "server/api_error.h"
#include "server/completion_endpoints.h"
#include "server/generation.h"
#include "server/openai_schema.h"
#include "server/request_context.h"
#include "util/error.h"
#include "util/log.h"

#include <httplib.h>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <set>

namespace tessera::server {
namespace {

constexpr const char* kJson = "application/json";

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kJson);
}

// Known routes keep their path as the metrics label; anything else is "other", so a scanner
// probing random URLs cannot blow up the label set.
std::string endpoint_label(const std::string& path) {
  static const std::set<std::string> known = {"/health", "/v1/models", "/metrics", "/v1/chat/completions",
                                              "/v1/completions", "/bench/chat/completions", "/tokenize",
                                              "/detokenize", "/apply-template"};
  return known.count(path) ? path : "other";
}

// Compares without an early exit, so response timing does not reveal how much of a key matched.
bool same_key(const std::string& given, const std::string& key) {
  if (given.size() != key.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ key[i]);
  return diff == 0;
}

// httplib's default also sets SO_REUSEPORT, which lets a second server bind a port that is
// already being listened on — both then share the connections, silently. SO_REUSEADDR alone
// still allows a quick restart (a port in TIME_WAIT) but makes a live listener a bind error.
void listening_socket_options(int socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// Orchestrators and Prometheus poll these every few seconds: a successful answer is logged at
// debug level only, so the access log stays readable.
bool routine_poll(const httplib::Request& req, const httplib::Response& res) {
  return req.method == "GET" && (req.path == "/health" || req.path == "/metrics") && res.status == 200;
}

// httplib 0.11 listens with a backlog of 5. A burst of clients connecting at once overflows it,
// and the kernel then drops or resets connections (ListenOverflows in `nstat`). Linux lets
// listen() be called again on a listening socket to raise the backlog; the socket is a
// protected member, hence the subclass.
class BacklogServer : public httplib::Server {
 public:
  void raise_backlog() { ::listen(svr_sock_.load(), SOMAXCONN); }
};

}  // namespace

ApiServer::ApiServer(ServerOptions options) : options_(std::move(options)) {
  created_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

ApiServer::~ApiServer() { stop(); }

bool ApiServer::authorised(const httplib::Request& req) const {
  if (options_.api_key.empty()) return true;
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.compare(0, prefix.size(), prefix) != 0) return false;
  return same_key(header.substr(prefix.size()), options_.api_key);
}

ApiServer::Handler ApiServer::guarded(bool needs_auth, bool needs_model, Handler handler) {
  return [this, needs_auth, needs_model, handler = std::move(handler)](const httplib::Request& req, const std::string& body,
                                                                        httplib::Response& res) {
    try {
      if (needs_auth && !authorised(req))
        throw ApiError(401, "Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.", {}, "invalid_api_key");
      if (needs_model && context_.load() == nullptr)
        throw ApiError(503, "the model is still loading; retry when /health answers 200", {}, "model_loading");
      handler(req, body, res);
    } catch (const ApiError& e) {
      send_json(res, e.status(), e.body());
    } catch (const QueueFull& e) {
      res.set_header("Retry-After", "1");
      send_json(res, 503, error_body(503, e.what(), {}, "server_overloaded"));
    } catch (const Error& e) {
      send_json(res, 400, error_body(400, e.what()));
    } catch (const std::exception& e) {
      log_error("{} {}: internal error: {}", req.method, req.path, e.what());
      send_json(res, 500, error_body(500, std::string("internal error: ") + e.what()));
    } catch (...) {
      send_json(res, 500, error_body(500, "internal error"));
    }
  };
}

// POST routes read their body through a content reader rather than req.body: httplib caps a
// body sent as application/x-www-form-urlencoded (curl -d's default) at 8 KiB with a 413,
// which would break `curl -d @prompt.json`. The reader still enforces --max-body-bytes.
void ApiServer::get(const std::string& path, bool needs_auth, const std::function<void(httplib::Response&)>& handler) {
  Handler inner = guarded(needs_auth, false, [handler](const httplib::Request&, const std::string&, httplib::Response& res) {
    handler(res);
  });
  http_->Get(path, [inner](const httplib::Request& req, httplib::Response& res) { inner(req, std::string(), res); });
}

// POST routes read their body through a content reader rather than req.body: httplib caps a
// body sent as application/x-www-form-urlencoded (curl -d's default) at 8 KiB with a 413,
// which would break `curl -d @prompt.json`. The reader still enforces --max-body-bytes.
void ApiServer::post(const std::string& path, const BodyHandler& handler) {
  Handler inner = guarded(true, true, [handler](const httplib::Request&, const std::string& body, httplib::Response& res) {
    handler(body, res);
  });
  http_->Post(path, [inner](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    if (req.is_multipart_form_data()) {
      send_json(res, 400, error_body(400, "multipart bodies are not supported; send JSON"));
      return;
    }
    std::string body;
    const bool complete = reader([&](const char* data, size_t length) {
      body.append(data, length);
      return true;
    });
    if (!complete) {
      // httplib has set 413 for an oversized body; the error handler writes the message.
      if (res.status < 400) res.status = 400;
      return;
    }
    inner(req, body, res);
  });
}

void ApiServer::add_routes() {
  httplib::Server& s = *http_;
  get("/health", false, [this](httplib::Response& res) { health(res); });
  get("/metrics", false, [this](httplib::Response& res) { metrics_text(res); });
  get("/v1/models", true, [this](httplib::Response& res) { models(res); });
  post("/v1/chat/completions", [this](const std::string& body, httplib::Response& res) { endpoints_->chat(body, res); });
  post("/v1/completions", [this](const std::string& body, httplib::Response& res) { endpoints_->completion(body, res); });
  post("/bench/chat/completions", [this](const std::string& body, httplib::Response& res) { endpoints_->bench(body, res); });
  post("/tokenize", [this](const std::string& body, httplib::Response& res) { tokenize(body, res); });
  post("/detokenize", [this](const std::string& body, httplib::Response& res) { detokenize(body, res); });
  post("/apply-template", [this](const std::string& body, httplib::Response& res) { apply_template(body, res); });

  // Called for every response with status >= 400; fills in the OpenAI shape where httplib
  // produced the status itself (404 no route, 413 body too large, 400 unparsable request).
  s.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message;
    switch (res.status) {
      case 404: message = "Unknown route: " + req.method + " " + req.path; break;
      case 413: message = "The request body is larger than the limit of " + std::to_string(options_.max_body_bytes) + " bytes."; break;
      default: message = "HTTP " + std::to_string(res.status); break;
    }
    send_json(res, res.status, error_body(res.status, message));
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
    send_json(res, 500, error_body(500, "internal error"));
  });
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    request_context::begin(req);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Runs after the response (a stream too) has been written, on the request's thread.
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics_.count_request(endpoint_label(req.path), res.status);
    const std::string line = request_context::access_log_line(req, res);
    if (routine_poll(req, res)) log_debug("{}", line);
    else log_info("{}", line);
  });
  if (!options_.cors_origin.empty()) {
    httplib::Headers cors = {{"Access-Control-Allow-Origin", options_.cors_origin},
                             {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                             {"Access-Control-Allow-Headers", "Authorization, Content-Type"}};
    if (options_.cors_origin != "*") cors.emplace("Vary", "Origin");  // caches: the answer is origin-specific
    s.set_default_headers(std::move(cors));
    // A browser's preflight carries no credentials: answer it for any path, without the key.
    // Clients add headers of their own (the openai package sends x-stainless-*), which the
    // server ignores, so whatever the preflight asks for is allowed.
    s.Options(".*", [](const httplib::Request& req, httplib::Response& res) {
      const std::string asked = req.get_header_value("Access-Control-Request-Headers");
      if (!asked.empty()) {
        res.headers.erase("Access-Control-Allow-Headers");
        res.set_header("Access-Control-Allow-Headers", asked);
      }
      res.set_header("Access-Control-Max-Age", "86400");
      res.status = 204;
    });
  }
}

void ApiServer::start() {
  auto server = std::make_unique<BacklogServer>();
  BacklogServer* backlog = server.get();
  http_ = std::move(server);
  const int threads = std::max(options_.http_threads, 4);
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_tcp_nodelay(true);  // SSE chunks are small; do not let Nagle hold them back
  http_->set_socket_options(listening_socket_options);
  add_routes();
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ <= 0) fail("cannot listen on {}: no free port", options_.host);
  } else {
    errno = 0;
    if (!http_->bind_to_port(options_.host, options_.port)) {
      if (errno == EADDRINUSE)
        fail("cannot listen on {}:{}: the port is already in use (another server?); choose another --port",
             options_.host, options_.port);
      fail("cannot listen on {}:{}: the address is not available (--host/--port)", options_.host, options_.port);
    }
    port_ = options_.port;
  }
  backlog->raise_backlog();
  listener_ = std::thread([this] { http_->listen_after_bind(); });
}

void ApiServer::attach(ServingContext& context) {
  endpoints_ = std::make_unique<CompletionEndpoints>(context, metrics_, options_.model_id);
  context_.store(&context);  // publishes endpoints_ too
}

void ApiServer::stop() {
  if (!http_) return;
  http_->stop();
  if (listener_.joinable()) listener_.join();
  http_.reset();
}

void ApiServer::health(httplib::Response& res) const {
  if (context_.load() == nullptr) send_json(res, 503, {{"status", "loading"}});
  else send_json(res, 200, {{"status", "ok"}});
}

void ApiServer::models(httplib::Response& res) const {
  nlohmann::json model = {{"id", options_.model_id}, {"object", "model"}, {"created", created_}, {"owned_by", "tessera"}};
  if (ServingContext* ctx = context_.load()) model["max_model_len"] = ctx->context_size;
  send_json(res, 200, {{"object", "list"}, {"data", nlohmann::json::array({model})}});
}

void ApiServer::metrics_text(httplib::Response& res) {
  Metrics::Live live;
  if (ServingContext* ctx = context_.load()) {
    live.model_loaded = true;
    live.queued = ctx->scheduler.queued();
    live.active = ctx->scheduler.active();
    live.state_budget_bytes = ctx->scheduler.options().state_budget_bytes;
    live.state_reserved_bytes = ctx->scheduler.reserved_state_bytes();
    // Fresh numbers from every rank when the compute thread is free within a moment; else the
    // last ones gathered (at load, or by the previous scrape or benchmark).
    if (auto memory = gather_rank_memory(ctx->scheduler, std::chrono::milliseconds(500))) metrics_.set_rank_memory(*memory);
  } else {
    metrics_.set_rank_memory({memory_usage_of_this_process()});
  }
  res.set_content(metrics_.render(live), "text/plain; version=0.0.4");
}

void ApiServer::tokenize(const std::string& raw_body, httplib::Response& res) {
  const nlohmann::ordered_json body = parse_json_object(raw_body);
  if (!body.contains("content") || !body["content"].is_string()) bad_request("'content' must be a string", "content");
  const bool special = body.value("add_special", true) && body.value("parse_special", true);
  ServingContext& ctx = *context_.load();
  send_json(res, 200, {{"tokens", ctx.tokenizer.encode(body["content"].get<std::string>(), special)}});
}

void ApiServer::detokenize(const std::string& raw_body, httplib::Response& res) {
  const nlohmann::ordered_json body = parse_json_object(raw_body);
  if (!body.contains("tokens") || !body["tokens"].is_array()) bad_request("'tokens' must be a list of token ids", "tokens");
  std::vector<int32_t> ids;
  ServingContext& ctx = *context_.load();
  for (const auto& id : body["tokens"]) {
    if (!id.is_number_integer() || !ctx.tokenizer.is_known(id.get<int32_t>()))
      bad_request("'tokens' must hold token ids of this vocabulary", "tokens");
    ids.push_back(id.get<int32_t>());
  }
  const bool skip_special = body.value("skip_special_tokens", false);
  send_json(res, 200, {{"content", ctx.tokenizer.decode(ids, skip_special)}});
}

void ApiServer::apply_template(const std::string& raw_body, httplib::Response& res) {
  nlohmann::ordered_json body = parse_json_object(raw_body);
  // Same validation and rendering as a chat completion, minus the generation.
  nlohmann::ordered_json chat = {{"messages", body.contains("messages") ? body["messages"] : nlohmann::ordered_json()}};
  for (const char* key : {"chat_template_kwargs", "tools", "tool_choice"})
    if (body.contains(key)) chat[key] = body[key];
  const ChatCompletionParams params = parse_chat_completion(chat);
  ServingContext& ctx = *context_.load();
  const PreparedPrompt prompt = prepare_chat_prompt(ctx, params);
  send_json(res, 200, {{"prompt", prompt.text}, {"tokens", prompt.tokens}});
}

}  // namespace tessera::server

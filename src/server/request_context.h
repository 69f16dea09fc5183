// What the HTTP layer knows about the request the calling thread is serving, for code that sees
// only the body (the endpoints): whether the client is still connected, and the token counts
// the access log reports.
//
// httplib 0.11 runs a request's routing, handler, content provider and logger on the one thread
// that owns the connection, so the context is thread-local: begin() in the pre-routing handler,
// access_log_line() from the logger once the response is written.
#pragma once

#include <cstdint>
#include <string>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace tessera::server::request_context {

void begin(const httplib::Request& req);

// The generation's token counts, for the access log line.
void note_tokens(int64_t prompt_tokens, int64_t completion_tokens);

// False once the client has closed or reset its connection. A non-streaming response sends
// nothing until it is complete, so no failed write would tell; this looks at the socket
// itself (never blocks; bytes of a pipelined next request do not count as a close, but a client
// that shuts down its sending side after the request does, as in llama-server). True when the
// connection cannot be found (then nothing can be known).
bool client_connected();

// "127.0.0.1:53422 POST /v1/chat/completions 200 prompt_tokens=12 completion_tokens=40 812.3 ms",
// and ends the request's context.
std::string access_log_line(const httplib::Request& req, const httplib::Response& res);

}  // namespace tessera::server::request_context

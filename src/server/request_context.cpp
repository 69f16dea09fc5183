#include "server/request_context.h"

#include <httplib.h>

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fmt/format.h>

namespace tessera::server::request_context {
namespace {

constexpr int kUnknown = -2;  // socket not looked up yet; -1: looked up, not found

struct Context {
  bool active = false;
  std::chrono::steady_clock::time_point start;
  std::string remote_addr;
  int remote_port = -1;
  int local_port = -1;
  int socket = kUnknown;
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
};

thread_local Context t_context;

int port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  return -1;
}

// The numeric host the way httplib writes Request::remote_addr.
std::string host_of(const sockaddr_storage& addr, socklen_t len) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0)
    return {};
  return host;
}

// httplib 0.11 does not tell a handler which socket its request came on. A TCP connection is
// named by its addresses and ports, so the one open descriptor with this peer and local port
// is the request's socket; it stays open while the handler runs (this thread closes it later).
int find_socket(const Context& c) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    sockaddr_storage peer{}, local{};
    socklen_t peer_len = sizeof(peer), local_len = sizeof(local);
    const int s = static_cast<int>(fd);
    if (getpeername(s, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 || port_of(peer) != c.remote_port) continue;
    if (getsockname(s, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 || port_of(local) != c.local_port) continue;
    if (host_of(peer, peer_len) != c.remote_addr) continue;
    found = s;
    break;
  }
  closedir(dir);
  return found;
}

bool peer_closed(int socket) {
  pollfd p{socket, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) return true;
  char byte = 0;
  const ssize_t n = recv(socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

}  // namespace

void begin(const httplib::Request& req) {
  t_context = Context{};
  t_context.active = true;
  t_context.start = std::chrono::steady_clock::now();
  t_context.remote_addr = req.remote_addr;
  t_context.remote_port = req.remote_port;
  t_context.local_port = req.local_port;
}

void note_tokens(int64_t prompt_tokens, int64_t completion_tokens) {
  t_context.prompt_tokens = prompt_tokens;
  t_context.completion_tokens = completion_tokens;
}

bool client_connected() {
  Context& c = t_context;
  if (!c.active) return true;
  if (c.socket == kUnknown) c.socket = find_socket(c);
  return c.socket < 0 || !peer_closed(c.socket);
}

std::string access_log_line(const httplib::Request& req, const httplib::Response& res) {
  const Context& c = t_context;
  std::string line = fmt::format("{}:{} {} {} {}", req.remote_addr, req.remote_port, req.method, req.path, res.status);
  if (c.active && c.prompt_tokens >= 0)
    line += fmt::format(" prompt_tokens={} completion_tokens={}", c.prompt_tokens, c.completion_tokens);
  if (c.active)
    line += fmt::format(" {:.1f} ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c.start).count());
  t_context = Context{};
  return line;
}

}  // namespace tessera::server::request_context

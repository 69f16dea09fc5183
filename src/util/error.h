// Errors in three tiers (see ../shared/design/STYLE.md §3.6):
//  - tessera::Error: bad input (checkpoint, config, request). Message names the file, tensor or
//    key, what was expected and what was found. The CLI prints it and exits 1; the server maps it
//    to an HTTP 4xx.
//  - TS_CHECK: a broken invariant inside the engine; always on, throws InternalError.
//  - MPI failures: logged with the rank, then MPI_Abort (parallel/).
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace tessera {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tessera

#define TS_CHECK(cond, ...)                                                              \
  do {                                                                                   \
    if (!(cond))                                                                         \
      throw ::tessera::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                     ": check failed: " #cond " " + fmt::format(__VA_ARGS__)); \
  } while (0)

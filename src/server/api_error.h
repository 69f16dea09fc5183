// Errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with an HTTP status.
// Handlers throw ApiError for anything the client did wrong; the HTTP layer turns it (and any
// other exception, as a 500) into a response, so no request can take the server down.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace tessera::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message, std::string param = {}, std::string code = {});
  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  nlohmann::json body() const;

 private:
  int status_;
  std::string param_;
  std::string code_;
};

// OpenAI's error type for a status: 400 invalid_request_error, 401 authentication_error, ...
std::string error_type_for_status(int status);
nlohmann::json error_body(int status, const std::string& message, const std::string& param = {},
                          const std::string& code = {});

[[noreturn]] void bad_request(const std::string& message, const std::string& param = {},
                              const std::string& code = {});

}  // namespace tessera::server

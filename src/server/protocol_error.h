// What a protocol layer reports when a request cannot be served: an HTTP status, an error type,
// a message for people and the request field at fault. Parsers return these as values (in a
// ProtocolResult) rather than throwing, so the HTTP layer turns every failure into a status
// code and a body in the client's API shape and never into a dropped connection.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace lightseek::server {

struct ProtocolError {
  int http_status = 400;
  // Anthropic's error type names, which cover every case and read well in all three APIs:
  // invalid_request_error, authentication_error, permission_error, not_found_error,
  // request_too_large, rate_limit_error, api_error, overloaded_error. Each API's error body
  // maps them onto its own spelling.
  std::string type = "invalid_request_error";
  std::string message;  // names the field and what is wrong with it
  std::string param;    // the offending field as a path ("messages[2].content"), or empty
  std::string code;     // OpenAI's machine-readable code ("model_not_found"), or empty
};

// 400: the request is malformed; `param` is the field path, repeated in the message.
ProtocolError invalid_request(std::string param, std::string message);
ProtocolError model_not_found(const std::string& model);  // 404, param "model"
ProtocolError authentication_failed(std::string message);  // 401
ProtocolError request_too_large(std::string message);      // 413
ProtocolError rate_limited(std::string message);           // 429 (the HTTP layer adds Retry-After)
ProtocolError server_error(std::string message);           // 500
ProtocolError overloaded(std::string message);             // 503

// A value or the reason there is none. Kept minimal: std::expected is C++23.
template <typename T>
class ProtocolResult {
 public:
  ProtocolResult(T value) : state_(std::move(value)) {}              // NOLINT: implicit on purpose
  ProtocolResult(ProtocolError error) : state_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  // Only when ok() / only when !ok(); std::bad_variant_access otherwise.
  T& value() { return std::get<T>(state_); }
  const T& value() const { return std::get<T>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const ProtocolError& error() const { return std::get<ProtocolError>(state_); }

 private:
  std::variant<T, ProtocolError> state_;
};

}  // namespace lightseek::server

#include "server/protocol_error.h"

namespace lightseek::server {

namespace {

ProtocolError make_error(int status, const char* type, std::string message, std::string param = {},
                         std::string code = {}) {
  return ProtocolError{status, type, std::move(message), std::move(param), std::move(code)};
}

}  // namespace

ProtocolError invalid_request(std::string param, std::string message) {
  return make_error(400, "invalid_request_error", std::move(message), std::move(param));
}

ProtocolError model_not_found(const std::string& model) {
  return make_error(404, "not_found_error", "model '" + model + "' not found", "model", "model_not_found");
}

ProtocolError authentication_failed(std::string message) {
  return make_error(401, "authentication_error", std::move(message), {}, "invalid_api_key");
}

ProtocolError request_too_large(std::string message) {
  return make_error(413, "request_too_large", std::move(message));
}

ProtocolError rate_limited(std::string message) {
  return make_error(429, "rate_limit_error", std::move(message), {}, "rate_limit_exceeded");
}

ProtocolError server_error(std::string message) { return make_error(500, "api_error", std::move(message)); }

ProtocolError overloaded(std::string message) { return make_error(503, "overloaded_error", std::move(message)); }

}  // namespace lightseek::server

#include "server/http_responses.h"

#include "server/json_body.h"
#include "server/protocol_dispatch.h"

namespace lightseek::server {

ApiProtocol protocol_for_path(std::string_view path) {
  if (path.substr(0, 12) == "/v1/messages") return ApiProtocol::Anthropic;
  if (path.substr(0, 5) == "/api/") return ApiProtocol::Ollama;
  return ApiProtocol::OpenAI;
}

void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  res.set_content(to_json_text(body), "application/json");
}

void send_error(httplib::Response& res, ApiProtocol protocol, const ProtocolError& error) {
  // One second is a guess: a slot frees when any running sequence ends.
  if (error.http_status == 429) res.set_header("Retry-After", "1");
  send_json(res, error.http_status, error_body(protocol, error));
}

}  // namespace lightseek::server

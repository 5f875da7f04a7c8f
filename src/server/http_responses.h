// Writing JSON bodies and errors into an httplib response, in the shape of the API a path
// belongs to.
#pragma once

#include <string_view>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/generation_request.h"
#include "server/protocol_error.h"

namespace lightseek::server {

// /v1/messages… is Anthropic, /api/… Ollama, everything else OpenAI.
ApiProtocol protocol_for_path(std::string_view path);

void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body);
// The error's status and body in `protocol`'s shape; 429 adds Retry-After.
void send_error(httplib::Response& res, ApiProtocol protocol, const ProtocolError& error);

}  // namespace lightseek::server

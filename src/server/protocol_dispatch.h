// One entry point per step for the HTTP layer, whatever the endpoint: parse the body, then
// answer with a body or a stream in the endpoint's API, or an error in its shape.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "server/generation_events.h"
#include "server/generation_request.h"
#include "server/protocol_error.h"

namespace lightseek::server {

ProtocolResult<GenerationRequest> parse_generation_request(ApiEndpoint endpoint, const nlohmann::ordered_json& body,
                                                           const RequestLimits& limits = {});

// The non-streaming reply. For AnthropicCountTokens it is {"input_tokens": usage.prompt_tokens}.
nlohmann::ordered_json response_body(const GenerationRequest& request, const GenerationOutcome& outcome,
                                     const ResponseMeta& meta);

std::unique_ptr<StreamFormatter> make_stream_formatter(const GenerationRequest& request, ResponseMeta meta);

nlohmann::ordered_json error_body(ApiProtocol protocol, const ProtocolError& error);

}  // namespace lightseek::server

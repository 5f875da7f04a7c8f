// The generation endpoints (OpenAI chat and completions, Anthropic messages and count_tokens,
// Ollama chat and generate): body → GenerationRequest → prompt tokens → Scheduler → a reply
// body or a stream in the endpoint's API.
#pragma once

#include <memory>

#include <httplib.h>

#include "server/generation_request.h"
#include "server/server_context.h"

namespace lightseek::server {

void handle_generation(ServerContext& context, ApiEndpoint endpoint, const httplib::Request& req,
                       httplib::Response& res, const std::shared_ptr<RequestRecord>& record);

}  // namespace lightseek::server

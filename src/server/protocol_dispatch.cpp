#include "server/protocol_dispatch.h"

#include "server/anthropic_protocol.h"
#include "server/ollama_protocol.h"
#include "server/openai_protocol.h"

namespace lightseek::server {

ProtocolResult<GenerationRequest> parse_generation_request(ApiEndpoint endpoint, const nlohmann::ordered_json& body,
                                                           const RequestLimits& limits) {
  switch (endpoint) {
    case ApiEndpoint::OpenAIChatCompletions:
      return openai::parse_chat_request(body, limits);
    case ApiEndpoint::OpenAICompletions:
      return openai::parse_completion_request(body, limits);
    case ApiEndpoint::AnthropicMessages:
      return anthropic::parse_messages_request(body, limits);
    case ApiEndpoint::AnthropicCountTokens:
      return anthropic::parse_count_tokens_request(body, limits);
    case ApiEndpoint::OllamaChat:
      return ollama::parse_chat_request(body, limits);
    case ApiEndpoint::OllamaGenerate:
      return ollama::parse_generate_request(body, limits);
  }
  return server_error("unknown endpoint");
}

nlohmann::ordered_json response_body(const GenerationRequest& request, const GenerationOutcome& outcome,
                                     const ResponseMeta& meta) {
  switch (request.protocol()) {
    case ApiProtocol::OpenAI:
      return openai::response_body(request, outcome, meta);
    case ApiProtocol::Anthropic:
      if (request.endpoint == ApiEndpoint::AnthropicCountTokens) {
        return anthropic::count_tokens_body(outcome.usage.prompt_tokens);
      }
      return anthropic::response_body(request, outcome, meta);
    case ApiProtocol::Ollama:
      return ollama::response_body(request, outcome, meta);
  }
  return nullptr;
}

std::unique_ptr<StreamFormatter> make_stream_formatter(const GenerationRequest& request, ResponseMeta meta) {
  switch (request.protocol()) {
    case ApiProtocol::OpenAI:
      return openai::make_stream_formatter(request, std::move(meta));
    case ApiProtocol::Anthropic:
      return anthropic::make_stream_formatter(request, std::move(meta));
    case ApiProtocol::Ollama:
      return ollama::make_stream_formatter(request, std::move(meta));
  }
  return nullptr;
}

nlohmann::ordered_json error_body(ApiProtocol protocol, const ProtocolError& error) {
  switch (protocol) {
    case ApiProtocol::OpenAI:
      return openai::error_body(error);
    case ApiProtocol::Anthropic:
      return anthropic::error_body(error);
    case ApiProtocol::Ollama:
      return ollama::error_body(error);
  }
  return nullptr;
}

}  // namespace lightseek::server

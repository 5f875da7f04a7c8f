#include "server/generation_request.h"

#include "text/chat_encoder.h"

namespace lightseek::server {

ApiProtocol protocol_of(ApiEndpoint endpoint) {
  switch (endpoint) {
    case ApiEndpoint::OpenAIChatCompletions:
    case ApiEndpoint::OpenAICompletions:
      return ApiProtocol::OpenAI;
    case ApiEndpoint::AnthropicMessages:
    case ApiEndpoint::AnthropicCountTokens:
      return ApiProtocol::Anthropic;
    case ApiEndpoint::OllamaChat:
    case ApiEndpoint::OllamaGenerate:
      return ApiProtocol::Ollama;
  }
  return ApiProtocol::OpenAI;
}

std::string_view endpoint_path(ApiEndpoint endpoint) {
  switch (endpoint) {
    case ApiEndpoint::OpenAIChatCompletions:
      return "/v1/chat/completions";
    case ApiEndpoint::OpenAICompletions:
      return "/v1/completions";
    case ApiEndpoint::AnthropicMessages:
      return "/v1/messages";
    case ApiEndpoint::AnthropicCountTokens:
      return "/v1/messages/count_tokens";
    case ApiEndpoint::OllamaChat:
      return "/api/chat";
    case ApiEndpoint::OllamaGenerate:
      return "/api/generate";
  }
  return "";
}

ThinkingMode GenerationRequest::output_mode() const {
  if (!raw_prompt && !messages.empty() && messages.back().role == "assistant") return ThinkingMode::Chat;
  return thinking;
}

EncodeOptions encode_options(const GenerationRequest& request) {
  EncodeOptions options;
  options.thinking = request.thinking;
  options.effort = request.effort;
  return options;
}

std::string render_prompt(const GenerationRequest& request) {
  if (request.raw_prompt) return *request.raw_prompt;
  std::vector<ChatMessage> messages = request.messages;
  const bool tools_shown = request.tool_choice.mode != ToolChoice::Mode::None;
  attach_request_options(messages, tools_shown ? request.tools : nlohmann::ordered_json(), request.response_format);
  return encode_chat(messages, encode_options(request));
}

}  // namespace lightseek::server

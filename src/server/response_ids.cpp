#include "server/response_ids.h"

#include <random>
#include <string_view>

namespace lightseek::server {

namespace {

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::random_device& random_source() {
  // One per thread: std::random_device is not safe to share between threads.
  thread_local std::random_device device;
  return device;
}

}  // namespace

std::string random_base62(std::size_t length) {
  // 62 * 4 = 248 of the 256 byte values map evenly; the rest are drawn again.
  constexpr unsigned kAcceptBelow = 248;
  std::string out;
  out.reserve(length);
  std::random_device& device = random_source();
  while (out.size() < length) {
    unsigned word = device();
    for (int byte = 0; byte < 4 && out.size() < length; ++byte, word >>= 8) {
      const unsigned value = word & 0xFFu;
      if (value < kAcceptBelow) out.push_back(kBase62[value % 62]);
    }
  }
  return out;
}

std::string new_tool_call_id(ApiProtocol protocol) {
  return (protocol == ApiProtocol::Anthropic ? "toolu_" : "call_") + random_base62(kRandomIdLength);
}

std::string new_response_id(ApiEndpoint endpoint) {
  switch (endpoint) {
    case ApiEndpoint::OpenAIChatCompletions:
      return "chatcmpl-" + random_base62(kRandomIdLength);
    case ApiEndpoint::OpenAICompletions:
      return "cmpl-" + random_base62(kRandomIdLength);
    case ApiEndpoint::AnthropicMessages:
    case ApiEndpoint::AnthropicCountTokens:
      return "msg_" + random_base62(kRandomIdLength);
    case ApiEndpoint::OllamaChat:
    case ApiEndpoint::OllamaGenerate:
      return "";
  }
  return "";
}

uint64_t random_seed() {
  std::random_device& device = random_source();
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

ResponseMeta new_response_meta(const GenerationRequest& request) {
  return ResponseMeta{new_response_id(request.endpoint), request.model, std::chrono::system_clock::now()};
}

}  // namespace lightseek::server

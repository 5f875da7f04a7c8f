// Identifiers a server hands out: response ids, tool call ids and default seeds. They come
// from std::random_device (the OS's random source), never from a seeded PRNG: a client that
// sees some ids must not be able to predict another client's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "server/generation_events.h"
#include "server/generation_request.h"

namespace lightseek::server {

// `length` characters from [0-9A-Za-z], uniformly (rejection sampling, no modulo bias).
std::string random_base62(std::size_t length);

inline constexpr std::size_t kRandomIdLength = 24;  // 24 base62 characters: 142 bits

// "call_" + 24 for OpenAI (and Ollama, whose clients ignore it), "toolu_" + 24 for Anthropic.
std::string new_tool_call_id(ApiProtocol protocol);
// "chatcmpl-…", "cmpl-…", "msg_…", or "" for Ollama, whose responses carry no id.
std::string new_response_id(ApiEndpoint endpoint);

uint64_t random_seed();

// A fresh id, the request's model name and the current time.
ResponseMeta new_response_meta(const GenerationRequest& request);

}  // namespace lightseek::server

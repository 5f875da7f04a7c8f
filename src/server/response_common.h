// Response pieces several APIs share: SSE framing, timestamps, per-token log probabilities in
// OpenAI's shape (which Ollama copied) and tool call ids. Internal to src/server.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/generation_events.h"
#include "server/generation_request.h"

namespace lightseek::server::responses {

using nlohmann::ordered_json;

// "data: {json}\n\n" and "event: name\ndata: {json}\n\n".
std::string sse_data(const ordered_json& value);
std::string sse_event(std::string_view name, const ordered_json& value);

int64_t unix_seconds(std::chrono::system_clock::time_point time);
// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed, as Go's time.RFC3339Nano writes
// ("2025-10-17T23:14:07.414671Z"): Ollama's created_at.
std::string rfc3339(std::chrono::system_clock::time_point time);

// {"token", "logprob", "bytes", "top_logprobs": [...]}; token text is the bytes made valid
// UTF-8, bytes the exact token bytes.
ordered_json token_logprob_json(const TokenLogprob& logprob);
ordered_json token_logprobs_json(const std::vector<TokenLogprob>& logprobs);

// The call with a fresh id in the protocol's style if it has none.
ToolCall with_id(ToolCall call, ApiProtocol protocol);

// The arguments as the JSON text OpenAI and Anthropic's input_json_delta carry.
std::string arguments_text(const ToolCall& call);

}  // namespace lightseek::server::responses

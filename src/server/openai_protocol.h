// The OpenAI API: POST /v1/chat/completions, POST /v1/completions, GET /v1/models.
// DeepSeek's extensions are understood: reasoning_content in assistant messages and deltas, and
// thinking: {"type": "enabled" | "disabled"}. vLLM's sampling extensions top_k, min_p and
// repetition_penalty are accepted too. Requests parse into GenerationRequest; results and
// stream events format into OpenAI's JSON and SSE bytes.
#pragma once

#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/generation_events.h"
#include "server/generation_request.h"
#include "server/model_facts.h"
#include "server/protocol_error.h"

namespace lightseek::server::openai {

// Chat: messages (system, developer — the same as system for OpenAI —, user, assistant with
// reasoning_content/tool_calls, tool with tool_call_id; content a string or text parts),
// tools, tool_choice, parallel_tool_calls, response_format, thinking, reasoning_effort
// ("none" turns thinking off; "minimal"…"high" mean V4's high, "xhigh"/"max" its max; either
// turns thinking on unless `thinking` says otherwise), temperature, top_p, top_k, min_p,
// frequency/presence/repetition penalties, logit_bias, seed, n, stop, max_tokens /
// max_completion_tokens, logprobs/top_logprobs, stream, stream_options.include_usage.
// A final assistant message is continued. Unknown fields are refused.
ProtocolResult<GenerationRequest> parse_chat_request(const nlohmann::ordered_json& body,
                                                     const RequestLimits& limits = {});
// Legacy completions: a prompt string (or an array of one), used raw; max_tokens defaults to
// 16 as in OpenAI; logprobs is a count (0…5); echo, suffix and best_of > n are refused.
ProtocolResult<GenerationRequest> parse_completion_request(const nlohmann::ordered_json& body,
                                                           const RequestLimits& limits = {});

// chat.completion (or text_completion for /v1/completions) with every choice and usage.
nlohmann::ordered_json response_body(const GenerationRequest& request, const GenerationOutcome& outcome,
                                     const ResponseMeta& meta);

// SSE: "data: {chunk}\n\n" per event, ending "data: [DONE]\n\n". Chat chunks open each choice
// with {"role": "assistant", "content": ""}, carry delta.reasoning_content, delta.content and
// delta.tool_calls (one complete call per chunk: index, id, type, function name and
// arguments), then a chunk with finish_reason; with include_usage every chunk has
// "usage": null and a last chunk with no choices carries the usage.
std::unique_ptr<StreamFormatter> make_stream_formatter(const GenerationRequest& request, ResponseMeta meta);

// {"error": {"message", "type", "param", "code"}}.
nlohmann::ordered_json error_body(const ProtocolError& error);

// GET /v1/models: {"object": "list", "data": [{"id", "object": "model", "created", "owned_by"}]}.
nlohmann::ordered_json models_body(const std::vector<ModelFacts>& models);

}  // namespace lightseek::server::openai

// The Anthropic Messages API: POST /v1/messages and POST /v1/messages/count_tokens.
// Requests parse into GenerationRequest (tools are rewritten into OpenAI's format, which the
// V4 encoder writes); results and stream events format into Anthropic's JSON and SSE events.
#pragma once

#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "server/generation_events.h"
#include "server/generation_request.h"
#include "server/protocol_error.h"

namespace lightseek::server::anthropic {

// model, max_tokens (required, at least 1), messages (user/assistant; content a string or
// blocks: text, tool_result with string or text-block content, thinking and tool_use in
// assistant turns; redacted_thinking is dropped; images and documents are refused), system
// (string or text blocks), tools ({name, description, input_schema}; server tools refused),
// tool_choice (auto, any, tool, none; disable_parallel_tool_use), thinking ({type: enabled,
// budget_tokens >= 1024 and < max_tokens}, disabled, or adaptive), stop_sequences,
// temperature (0…1), top_p, top_k, stream, metadata. A final assistant message is a prefill,
// continued by the reply. cache_control is accepted everywhere and has no effect.
ProtocolResult<GenerationRequest> parse_messages_request(const nlohmann::ordered_json& body,
                                                         const RequestLimits& limits = {});
// The same fields minus max_tokens, stream and sampling: the prompt only.
ProtocolResult<GenerationRequest> parse_count_tokens_request(const nlohmann::ordered_json& body,
                                                             const RequestLimits& limits = {});

// {"id", "type": "message", "role": "assistant", "model", "content": [thinking, text,
// tool_use blocks], "stop_reason": end_turn | max_tokens | stop_sequence | tool_use,
// "stop_sequence", "usage": {input_tokens (uncached), cache_creation_input_tokens,
// cache_read_input_tokens, output_tokens}}. Only the first choice is used (n is 1).
nlohmann::ordered_json response_body(const GenerationRequest& request, const GenerationOutcome& outcome,
                                     const ResponseMeta& meta);

// {"input_tokens": N}
nlohmann::ordered_json count_tokens_body(int64_t input_tokens);

// SSE events: message_start; per block content_block_start, content_block_delta
// (thinking_delta, text_delta, input_json_delta with the whole arguments) and
// content_block_stop, indices counting up from 0; message_delta with stop_reason and usage;
// message_stop.
std::unique_ptr<StreamFormatter> make_stream_formatter(const GenerationRequest& request, ResponseMeta meta);

// {"type": "error", "error": {"type", "message"}}.
nlohmann::ordered_json error_body(const ProtocolError& error);

}  // namespace lightseek::server::anthropic

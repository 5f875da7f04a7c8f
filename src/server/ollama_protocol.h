// The Ollama API: POST /api/chat, POST /api/generate, GET /api/tags, POST /api/show,
// GET /api/ps, GET /api/version. Requests parse into GenerationRequest; results and stream
// events format into Ollama's JSON and NDJSON lines with its timing fields.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/generation_events.h"
#include "server/generation_request.h"
#include "server/model_facts.h"
#include "server/protocol_error.h"

namespace lightseek::server::ollama {

// /api/chat: model, messages (system, user, assistant with thinking and tool_calls, tool with
// tool_name or tool_call_id; images refused), tools (OpenAI format), format ("json" or a JSON
// schema, rendered as OpenAI's json_object / json_schema response format), think (a boolean,
// or "low" | "medium" | "high", all of which mean V4's high effort), options (temperature,
// top_p, top_k, min_p, seed, num_predict — -1 and -2 mean no limit —, stop, repeat_penalty,
// presence_penalty, frequency_penalty; Ollama's runner options such as num_ctx are accepted
// and ignored), stream (default true), keep_alive (ignored), logprobs, top_logprobs. No
// messages: load_only. A final assistant message is continued.
ProtocolResult<GenerationRequest> parse_chat_request(const nlohmann::ordered_json& body,
                                                     const RequestLimits& limits = {});
// /api/generate: prompt and system rendered as a chat turn, or with "raw": true the prompt
// as is; the same options; suffix, images, template and context are refused. An empty
// prompt: load_only.
ProtocolResult<GenerationRequest> parse_generate_request(const nlohmann::ordered_json& body,
                                                         const RequestLimits& limits = {});
// /api/show: {"model"} (or the older {"name"}); returns the model name.
ProtocolResult<std::string> parse_show_request(const nlohmann::ordered_json& body);

// The final object: /api/chat {"model", "created_at", "message": {"role", "content",
// "thinking", "tool_calls"}, "done": true, "done_reason", "total_duration", "load_duration",
// "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"}; /api/generate
// has "response" and "thinking" in place of "message". A load_only request gets
// done_reason "load" and no timings.
nlohmann::ordered_json response_body(const GenerationRequest& request, const GenerationOutcome& outcome,
                                     const ResponseMeta& meta);

// NDJSON: one object per line with the text or a completed tool call and "done": false, then
// the final line as response_body has it but with empty text.
std::unique_ptr<StreamFormatter> make_stream_formatter(const GenerationRequest& request, ResponseMeta meta);

// {"error": "message"}
nlohmann::ordered_json error_body(const ProtocolError& error);

// GET /api/tags: {"models": [{name, model, modified_at, size, digest, details}]}.
nlohmann::ordered_json tags_body(const std::vector<ModelFacts>& models);
// POST /api/show: details, model_info (general.architecture, general.parameter_count,
// <family>.context_length), capabilities, modified_at.
nlohmann::ordered_json show_body(const ModelFacts& model);
// GET /api/ps: the loaded models, kept until `expires_at`.
nlohmann::ordered_json ps_body(const std::vector<ModelFacts>& loaded, std::chrono::system_clock::time_point expires_at);
// GET /api/version: {"version": "..."}.
nlohmann::ordered_json version_body(const std::string& version);

// Ollama's parameter_size spelling: "284B", "1.6T", "8.0B", "13M".
std::string parameter_size_text(int64_t parameter_count);

}  // namespace lightseek::server::ollama

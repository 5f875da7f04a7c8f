// The one request every API endpoint is translated into. The scheduler and the HTTP layer see
// only this: which endpoint it came from (to answer in the same shape), the conversation or raw
// prompt, and every generation control, already validated and in lightseek's own terms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/sampler.h"
#include "text/chat_encoder.h"
#include "text/json_schema.h"
#include "text/tool_call_grammar.h"

namespace lightseek::server {

enum class ApiProtocol { OpenAI, Anthropic, Ollama };

enum class ApiEndpoint {
  OpenAIChatCompletions,  // POST /v1/chat/completions
  OpenAICompletions,      // POST /v1/completions (raw prompt)
  AnthropicMessages,      // POST /v1/messages
  AnthropicCountTokens,   // POST /v1/messages/count_tokens (prompt only, nothing generated)
  OllamaChat,             // POST /api/chat
  OllamaGenerate,         // POST /api/generate (chat-rendered, or raw with "raw": true)
};

ApiProtocol protocol_of(ApiEndpoint endpoint);
std::string_view endpoint_path(ApiEndpoint endpoint);  // "/v1/chat/completions", ...

struct ToolChoice {
  enum class Mode {
    Auto,      // the model decides
    None,      // no tool may be called: the tools are left out of the prompt
    Required,  // some tool must be called (enforced by constrained decoding)
    Named,     // `name` must be called (likewise)
  };
  Mode mode = Mode::Auto;
  std::string name;                // Mode::Named
  bool parallel_calls = true;      // OpenAI parallel_tool_calls, Anthropic !disable_parallel_tool_use
};

struct LogprobRequest {
  bool enabled = false;  // a log probability for each generated token
  int top = 0;           // and this many most likely alternatives at each position
};

struct GenerationRequest {
  ApiEndpoint endpoint = ApiEndpoint::OpenAIChatCompletions;
  std::string model;  // as the client named it; the HTTP layer checks that it is served

  // The prompt: a conversation rendered by the V4 encoder, or (raw_prompt set) text used as
  // it is, tokenized without BOS or template. Exactly one of the two is used.
  std::vector<ChatMessage> messages;
  std::optional<std::string> raw_prompt;

  // OpenAI tool format ([{"type": "function", "function": {name, description, parameters}}]),
  // whatever API the request came in, because that is what the V4 encoder writes; or null.
  nlohmann::ordered_json tools;
  ToolChoice tool_choice;
  // What enforces strict tools and tool_choice required / named: the tool-call block the reply
  // may (or must) hold, compiled when the request is parsed so that a strict tool's schema the
  // decoder cannot enforce is a 400; null when tool calls are not constrained (no strict tool,
  // tool_choice auto or none).
  std::shared_ptr<const ToolCallGrammar> tool_grammar;
  // OpenAI's response_format shape ({"type": "json_object"} or {"type": "json_schema",
  // "json_schema": {...}}), rendered into the prompt as the V4 encoder does; or null.
  nlohmann::ordered_json response_format;
  // What enforces it: the grammar every answer must match (any object for json_object), compiled
  // when the request is parsed so that an unsupported schema is a 400; null for free text. The
  // sampler of each choice masks its logits with an OutputConstraint built on it.
  std::shared_ptr<const JsonSchemaGrammar> output_grammar;

  ThinkingMode thinking = ThinkingMode::Chat;
  ReasoningEffort effort = ReasoningEffort::Default;
  // Anthropic's thinking budget_tokens: most reasoning tokens wanted; enforcing it is the
  // scheduler's choice (e.g. close the reasoning with </think> once it is spent).
  std::optional<int64_t> thinking_budget_tokens;

  // Validated against Sampler's rules. When the client gave no seed, sampling.seed holds a
  // fresh random one (seed_from_client false); choice i of n samples with seed + i.
  SamplingParams sampling;
  bool seed_from_client = false;
  std::vector<std::string> stop;       // stop strings, none empty
  std::optional<int64_t> max_tokens;   // at least 1; nullopt: until the context is full
  LogprobRequest logprobs;
  int n = 1;                            // independent choices (OpenAI only; 1 elsewhere)

  bool stream = false;
  bool include_usage = false;  // OpenAI stream_options.include_usage: a final usage chunk

  // Ollama answers an /api/chat or /api/generate without messages or prompt by loading the
  // model and replying done_reason "load"; nothing is generated.
  bool load_only = false;

  ApiProtocol protocol() const { return protocol_of(endpoint); }
  // False for OpenAI /v1/completions, whose text is returned verbatim; true where generated
  // text is split into reasoning, content and tool calls by the OutputParser.
  bool parses_output() const { return endpoint != ApiEndpoint::OpenAICompletions; }
  // The mode the OutputParser starts in: the request's, except that a reply continuing a final
  // assistant message (a prefill) starts after that message's reasoning, in content.
  ThinkingMode output_mode() const;
};

// What the request path allows; the limits come from the served model and server flags.
struct RequestLimits {
  ThinkingMode default_thinking = ThinkingMode::Chat;  // when a request says nothing
  int64_t context_tokens = 0;    // max_tokens above this is refused; 0: not checked here
  int max_choices = 16;          // OpenAI n
  std::size_t max_stop_strings = 16;
  int max_top_logprobs = 20;
};

// The encoder options for a chat request (thinking mode and effort).
EncodeOptions encode_options(const GenerationRequest& request);

// The exact prompt text: the raw prompt, or the messages with the request's tools (unless
// tool_choice is None) and response format rendered by encode_chat. Throws lightseek::Error
// for conversations the V4 format cannot express (the parsers check this, so a request they
// return renders).
std::string render_prompt(const GenerationRequest& request);

}  // namespace lightseek::server

// What generation produces, in one model for all APIs: a finished result for non-streaming
// replies, and the incremental events a stream is made of. The scheduler fills these; each
// protocol formats them (openai_protocol.h, anthropic_protocol.h, ollama_protocol.h).
//
// A stream is, per request: StreamStarted, then for each choice any interleaving of
// ReasoningDelta, ContentDelta and ToolCallCompleted, then ChoiceFinished for every choice,
// then StreamFinished last. Formatters tolerate a missing StreamStarted (they open the stream
// on the first event) and ignore events for a choice after it finished.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runtime/stop_checker.h"
#include "server/protocol_error.h"
#include "text/chat_encoder.h"

namespace lightseek::server {

enum class FinishReason {
  Stop,       // end of sequence, or a stop string (then FinishedChoice::stop_sequence names it)
  Length,     // max_tokens, or the context is full
  ToolCalls,  // the model ended its turn with tool calls
  Cancelled,  // the client went away or the server is shutting down
};

// The finish reason for how generation ended (runtime::StopReason; None means cancelled).
FinishReason finish_reason_for(StopReason reason, bool has_tool_calls);
std::string_view finish_reason_name(FinishReason reason);  // "stop", "length", ...

struct TokenAlternative {
  std::string token;  // the token's bytes; may be part of a UTF-8 character
  double logprob = 0.0;
};

struct TokenLogprob {
  std::string token;  // the token's bytes; may be part of a UTF-8 character
  double logprob = 0.0;
  std::vector<TokenAlternative> top;  // most likely first, as many as requested
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // of prompt_tokens, reused from earlier requests
  int64_t completion_tokens = 0;     // all choices together
  int64_t reasoning_tokens = 0;      // of completion_tokens, spent before </think>
  // Nanoseconds. load: waiting for and preparing the model; prefill: the prompt; decode: the
  // generated tokens; total: request arrival to the end (0: the sum of the other three).
  int64_t load_ns = 0;
  int64_t prefill_ns = 0;
  int64_t decode_ns = 0;
  int64_t total_ns = 0;

  int64_t total_or_sum_ns() const { return total_ns > 0 ? total_ns : load_ns + prefill_ns + decode_ns; }
};

struct FinishedChoice {
  std::size_t index = 0;
  std::string reasoning;
  std::string content;
  // Calls with empty ids get a fresh id in the API's style when formatted.
  std::vector<ToolCall> tool_calls;
  FinishReason finish_reason = FinishReason::Stop;
  std::optional<std::string> stop_sequence;  // the stop string that ended generation
  std::vector<TokenLogprob> logprobs;       // content tokens, when requested
};

struct GenerationOutcome {
  std::vector<FinishedChoice> choices;  // n of them, in index order
  Usage usage;
};

// Who answers and when, shared by a body or a stream and all its chunks.
struct ResponseMeta {
  std::string id;     // "chatcmpl-…", "cmpl-…", "msg_…"; Ollama has none
  std::string model;  // echoed as the client named it
  std::chrono::system_clock::time_point created;
};

// --- stream events -------------------------------------------------------------------------

struct StreamStarted {
  int64_t prompt_tokens = 0;  // Anthropic's message_start reports the input size up front
  int64_t cached_prompt_tokens = 0;
};
struct ReasoningDelta {
  std::size_t choice = 0;
  std::string text;
};
struct ContentDelta {
  std::size_t choice = 0;
  std::string text;
  std::vector<TokenLogprob> logprobs;  // of the tokens that produced this text, when requested
};
struct ToolCallCompleted {
  std::size_t choice = 0;
  ToolCall call;  // an empty id gets a fresh one in the API's style
};
struct ChoiceFinished {
  std::size_t choice = 0;
  FinishReason reason = FinishReason::Stop;
  std::optional<std::string> stop_sequence;
};
struct StreamFinished {
  Usage usage;
};

using GenerationEvent =
    std::variant<StreamStarted, ReasoningDelta, ContentDelta, ToolCallCompleted, ChoiceFinished, StreamFinished>;

// Turns one request's events into the exact bytes to write (SSE or NDJSON). One object per
// streamed response; not thread-safe, events must arrive in order.
class StreamFormatter {
 public:
  virtual ~StreamFormatter() = default;
  // The Content-Type of the response: "text/event-stream" or "application/x-ndjson".
  virtual std::string_view content_type() const = 0;
  // The bytes for this event; empty when it adds nothing to the wire.
  virtual std::string write(const GenerationEvent& event) = 0;
  // A failure after the response has started (status already sent): the API's in-stream
  // error, which ends the stream. Nothing is written after it.
  virtual std::string write_error(const ProtocolError& error) = 0;
  // True once StreamFinished or an error was written.
  virtual bool finished() const = 0;
};

}  // namespace lightseek::server

// One choice's generated tokens turned into stream events: whole UTF-8 text, stop strings and
// token budget (StopChecker), then reasoning, content and tool calls (OutputParser), the same
// steps runtime::generate takes, one token at a time so the scheduler can interleave choices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/stop_checker.h"
#include "server/generation_events.h"
#include "server/generation_request.h"
#include "server/step_backend.h"
#include "text/output_parser.h"
#include "text/tokenizer.h"

namespace lightseek::server {

class ChoiceDecoder {
 public:
  // `request` gives the stop strings, the parsing mode and the API (for tool call ids);
  // `max_tokens` is the budget already resolved against the context.
  ChoiceDecoder(std::size_t choice, const GenerationRequest& request, const Tokenizer& tokenizer, int32_t eos_id,
                int64_t max_tokens);

  // One generated token, with its logprobs when the request asked for them; appends the
  // events it completes (ending with ChoiceFinished when it stops generation).
  void push(int32_t token, const StepLogprob* logprob, std::vector<GenerationEvent>& events);
  void push(int32_t token, std::vector<GenerationEvent>& events) { push(token, nullptr, events); }
  // Generation ends without a stop (the client went away, the server shuts down, an error):
  // releases what was held back and finishes with `reason`.
  void finish(FinishReason reason, std::vector<GenerationEvent>& events);

  bool finished() const { return finished_; }
  int64_t tokens() const { return tokens_; }
  int64_t reasoning_tokens() const { return reasoning_tokens_; }

 private:
  void release(const std::string& text, std::vector<GenerationEvent>& events);
  void emit(ParsedDelta delta, std::vector<GenerationEvent>& events);
  std::optional<std::string> matched_stop_string() const;
  std::vector<TokenLogprob> take_logprobs(std::string_view text, bool content);

  // A generated token whose text has not been fully seen in a delta yet.
  struct PendingLogprob {
    TokenLogprob entry;
    std::size_t matched = 0;  // bytes of entry.token already seen in earlier deltas
    bool attached = false;
  };

  std::size_t choice_;
  const Tokenizer& tokenizer_;
  ApiProtocol protocol_;
  bool parses_output_;
  std::vector<std::string> stop_strings_;
  StopChecker stop_;
  IncrementalDecoder decoder_;
  OutputParser parser_;
  std::string decoded_;        // everything the detokenizer produced
  std::size_t released_ = 0;   // of it, the bytes released past the stop checker
  bool in_reasoning_;
  bool has_tool_calls_ = false;
  bool finished_ = false;
  int64_t tokens_ = 0;
  int64_t reasoning_tokens_ = 0;
  std::deque<PendingLogprob> pending_logprobs_;
};

}  // namespace lightseek::server

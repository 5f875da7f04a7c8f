// Generation: sample from the session's last logits, feed each token back, and turn the tokens
// into streamed text (whole UTF-8, stop strings held back) split into reasoning, content and
// tool calls.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/output_constraint.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "runtime/stop_checker.h"
#include "text/output_parser.h"
#include "text/tokenizer.h"

namespace lightseek {

struct GenerationSettings {
  SamplingParams sampling;
  StopConditions stop;
  ThinkingMode mode = ThinkingMode::Chat;
  // Structured output: when set, the answer is constrained to a document this grammar accepts
  // (in thinking mode from </think> on), ending with the first stop token id.
  std::shared_ptr<const JsonSchemaGrammar> output_grammar;
  std::shared_ptr<const TokenTrie> output_vocabulary;  // built from the tokenizer when null
};

struct GenerationResult {
  std::vector<int32_t> tokens;  // generated, including a final stop token
  std::string text;             // generated text as released (stop strings excluded)
  std::string reasoning, content;
  std::vector<ToolCall> tool_calls;
  StopReason reason = StopReason::None;  // None when cancelled
  bool cancelled = false;
  double seconds = 0.0;
};

// Generates until a stop condition or `cancel` becomes true (checked between tokens). Each
// token is appended to the session, so a chat can continue from where generation ended.
GenerationResult generate(Session& session, const Tokenizer& tokenizer, const GenerationSettings& settings,
                          const std::function<void(const ParsedDelta&)>& on_delta,
                          const std::atomic<bool>* cancel = nullptr);

std::string_view stop_reason_name(StopReason reason);

}  // namespace lightseek

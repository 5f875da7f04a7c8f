// Where the scheduler's tokens come from. One step advances every running sequence at once:
// a sequence still reading its prompt takes the next chunk of it, a generating one feeds its
// last token and receives the next. The model backend does a step as one batched forward over
// all sequences (continuous batching); the scripted backend replays completions from a file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "runtime/prefix_cache.h"
#include "runtime/sampler.h"
#include "text/json_schema.h"
#include "text/tool_call_grammar.h"

namespace lightseek::server {

// One sequence as a backend sees it. Backends derive their own state from it.
// The log probability of a produced token and of the most likely alternatives at its position.
struct StepLogprob {
  double logprob = 0.0;
  std::vector<std::pair<int32_t, double>> top;  // (token id, logprob), most likely first
};

class StepSequence {
 public:
  virtual ~StepSequence() = default;
  // Set by a step that produced this sequence's next token; empty while it reads its prompt.
  std::optional<int32_t> next_token;
  // Set by the scheduler after start(): -1 when the request wants no logprobs, else how many
  // alternatives (0..20). Backends then fill next_logprob alongside next_token.
  int logprobs_top = -1;
  std::optional<StepLogprob> next_logprob;
  // Prompt tokens processed so far, and how many tokens the last step ran through the model.
  int64_t prompt_done = 0;
  int64_t prompt_size = 0;
  // Of prompt_done at start(): tokens whose state came from the prefix cache.
  int64_t cached_tokens = 0;
  int64_t last_step_tokens = 0;
  bool reading_prompt() const { return prompt_done < prompt_size; }
};

// What a sequence's tokens must obey beyond the sampling parameters.
struct SequenceRules {
  // Structured output: the answer must be a document this grammar accepts; null: free text.
  std::shared_ptr<const JsonSchemaGrammar> output_grammar;
  // Strict tools / tool_choice: the tool-call block the reply may or must hold; null: free.
  std::shared_ptr<const ToolCallGrammar> tool_grammar;
  // Thinking mode: the reply starts in its reasoning, which stays free until </think>.
  bool starts_in_reasoning = false;
};

class StepBackend {
 public:
  virtual ~StepBackend() = default;
  // A sequence for one choice: its prompt and how to pick tokens (seeded per choice).
  virtual std::unique_ptr<StepSequence> start(std::span<const int32_t> prompt, const SamplingParams& sampling,
                                              const SequenceRules& rules) = 0;
  // One step for all of them (each appears once). Throws lightseek::Error when the model
  // refuses the input; the scheduler then ends those sequences' requests with an error.
  virtual void step(std::span<StepSequence* const> sequences) = 0;
  // The sequence ended normally (not cancelled, not failed): the backend may keep its state for
  // later prompts that continue it.
  virtual void finished(StepSequence& /*sequence*/) {}
  // Counters of the prefix cache; all zero without one.
  virtual PrefixCacheStats cache_stats() const { return {}; }
};

}  // namespace lightseek::server

// The real backend: every running sequence has its own SequenceState, and a step is one
// Transformer::forward over all of them (prompt chunks and single decode tokens together),
// followed by sampling each sequence's next token from its last row of logits.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "model/transformer.h"
#include "runtime/output_constraint.h"
#include "runtime/prefix_checkpoints.h"
#include "server/step_backend.h"
#include "text/tokenizer.h"

namespace lightseek::server {

// The log-softmax of `row` at `chosen`, and the `top` highest entries (ties: lower id first).
// Unusable ids are -inf in the row and never appear unless everything else is exhausted.
StepLogprob token_logprobs(std::span<const float> row, int32_t chosen, int top);

class ModelStepBackend : public StepBackend {
 public:
  // `prefill_chunk`: most prompt tokens one sequence runs per step, so that a long prompt does
  // not stall the other sequences' decoding for its whole length.
  // `cache` (may be null, must outlive the backend): where states are saved after a prompt's
  // turn boundaries, at its end and at the end of the generation, and looked up at start().
  ModelStepBackend(Transformer& model, const Tokenizer& tokenizer, int32_t eos_id, int64_t prefill_chunk = 512,
                   PrefixCache* cache = nullptr);

  std::unique_ptr<StepSequence> start(std::span<const int32_t> prompt, const SamplingParams& sampling,
                                      const SequenceRules& rules) override;
  void step(std::span<StepSequence* const> sequences) override;
  void finished(StepSequence& sequence) override;
  PrefixCacheStats cache_stats() const override;

 private:
  Transformer& model_;
  int64_t prefill_chunk_;
  PrefixCache* cache_;
  // Where prompts are saved for the prefix cache (runtime/prefix_checkpoints.h).
  CheckpointMarkers checkpoint_markers_;
  int32_t eos_id_;
  std::optional<int32_t> end_of_thinking_id_;
  // The vocabulary tries for constrained decoding, built at the first request using them.
  ConstraintVocabulary constraint_vocabulary_;
  // Ids the tokenizer has no token for (V4's embedding has more rows than it has ids).
  std::vector<int32_t> unusable_ids_;
};

}  // namespace lightseek::server

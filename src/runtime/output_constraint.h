// Structured output for one sequence: masks each row of logits so that only tokens keeping the
// answer a prefix of a document the schema accepts can be sampled, and follows the tokens that
// were. In thinking mode the reasoning is free: the constraint starts after </think>.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "text/json_matcher.h"
#include "text/json_schema.h"
#include "text/token_mask.h"

namespace lightseek {

class OutputConstraint {
 public:
  // `grammar` may be shared by every sequence of a request, `vocabulary` by every sequence of a
  // tokenizer (TokenTrie::build once per tokenizer). `end_of_thinking_id`: the </think> token
  // when the sequence starts inside its reasoning; the end of sentence is refused until then,
  // so the reply cannot end before its answer.
  OutputConstraint(std::shared_ptr<const JsonSchemaGrammar> grammar, std::shared_ptr<const TokenTrie> vocabulary,
                   int32_t eos_id, std::optional<int32_t> end_of_thinking_id);

  // Sets -infinity where a token may not come next: before </think> only the end of sentence;
  // after it every token that is not JSON continuing the document (ids past the vocabulary
  // included), and the end of sentence until the document is whole. Not const: it fills the
  // mask cache.
  void mask(std::span<float> logits);
  // Follows the sampled token. Throws Error for a token mask() refused.
  void accept(int32_t token);
  // The document is whole and nothing may follow but the end of sentence.
  bool finished() const { return finished_; }
  // The answer has begun (</think> was written, or there was no reasoning).
  bool constraining() const { return constraining_; }
  // The end of sentence was accepted.
  bool ended() const { return ended_; }

 private:
  std::shared_ptr<const JsonSchemaGrammar> grammar_;
  TokenMasker masker_;
  JsonMatcher matcher_;
  JsonMatcher trial_;
  int32_t eos_id_;
  std::optional<int32_t> end_of_thinking_id_;
  bool constraining_;
  bool complete_ = false;  // the text so far is a whole document
  bool finished_ = false;
  bool ended_ = false;
};

}  // namespace lightseek

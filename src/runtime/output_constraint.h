// Constrained decoding for one sequence: masks each row of logits so that only tokens keeping
// the reply acceptable can be sampled, and follows the tokens that were. The answer may be a
// JSON document (structured output), a DSML tool-call block (strict tools, tool_choice), or
// either: a JSON answer is refused once a tool-call block begins, and the block once the JSON
// document does (their first bytes differ). In thinking mode the reasoning is free: the
// constraint starts after </think>.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "text/json_matcher.h"
#include "text/json_schema.h"
#include "text/token_mask.h"
#include "text/tokenizer.h"
#include "text/tool_call_grammar.h"
#include "text/tool_call_mask.h"
#include "text/tool_call_matcher.h"

namespace lightseek {

class OutputConstraint {
 public:
  // A JSON answer. `grammar` may be shared by every sequence of a request, `vocabulary` by
  // every sequence of a tokenizer (TokenTrie::build once per tokenizer). `end_of_thinking_id`:
  // the </think> token when the sequence starts inside its reasoning; the end of sentence is
  // refused until then, so the reply cannot end before its answer.
  OutputConstraint(std::shared_ptr<const JsonSchemaGrammar> grammar, std::shared_ptr<const TokenTrie> vocabulary,
                   int32_t eos_id, std::optional<int32_t> end_of_thinking_id);

  struct Rules {
    std::shared_ptr<const JsonSchemaGrammar> answer;    // a JSON answer; null: free content
    std::shared_ptr<const ToolCallGrammar> tool_calls;  // the tool-call block; null: no tools
  };
  // Tool calls, with or without a JSON answer beside them (ToolCallVocabulary::build once per
  // tokenizer). Without an answer grammar, content before the block is free unless the
  // grammar must call a tool; the reasoning may then end the reply only when no call is due.
  OutputConstraint(Rules rules, std::shared_ptr<const ToolCallVocabulary> vocabulary, int32_t eos_id,
                   std::optional<int32_t> end_of_thinking_id);

  // Sets -infinity where a token may not come next (ids past the vocabulary included), the end
  // of sentence included until the reply may end. Not const: it fills the mask caches.
  void mask(std::span<float> logits);
  // Follows the sampled token. Throws Error for a token mask() refused.
  void accept(int32_t token);
  // Nothing may follow but the end of sentence.
  bool finished() const;
  // The answer has begun (</think> was written, or there was no reasoning).
  bool constraining() const { return constraining_; }
  // The end of sentence was accepted.
  bool ended() const { return ended_; }

 private:
  bool may_end() const;

  int32_t eos_id_;
  std::optional<int32_t> end_of_thinking_id_;
  bool constraining_;
  bool answer_required_;  // the reasoning may not end the reply
  bool ended_ = false;

  // The JSON answer, while it is still possible.
  std::shared_ptr<const JsonSchemaGrammar> grammar_;
  std::optional<TokenMasker> json_masker_;
  std::optional<JsonMatcher> json_;
  std::optional<JsonMatcher> json_trial_;
  bool json_complete_ = false;  // the text so far is a whole document
  bool json_finished_ = false;  // and nothing may follow it

  // The tool-call block (or free content before it), while it is still possible.
  std::shared_ptr<const ToolCallGrammar> tool_grammar_;
  std::optional<ToolCallMasker> tool_masker_;
  std::optional<ToolCallMatcher> tools_;
  std::optional<ToolCallMatcher> tools_trial_;

  TokenBitset either_;  // both masks at once, before the first token decides
};

// The vocabulary tries constrained decoding reads, built at the first constrained sequence and
// shared by every later one of the tokenizer. Not thread-safe: one per model thread.
class ConstraintVocabulary {
 public:
  explicit ConstraintVocabulary(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  // The constraint for a reply matching `answer` (JSON) and/or holding a tool-call block as
  // `tool_calls` says; none when both are null. Tool calls are left free when the tokenizer
  // has no ｜DSML｜ token (not a V4 tokenizer: its model writes no DSML markup).
  std::optional<OutputConstraint> constraint(std::shared_ptr<const JsonSchemaGrammar> answer,
                                             std::shared_ptr<const ToolCallGrammar> tool_calls, int32_t eos_id,
                                             std::optional<int32_t> end_of_thinking_id);

 private:
  const Tokenizer& tokenizer_;
  std::shared_ptr<const TokenTrie> trie_;
  std::shared_ptr<const ToolCallVocabulary> tools_;
};

}  // namespace lightseek

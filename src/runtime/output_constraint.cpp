#include "runtime/output_constraint.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace lightseek {
namespace {

constexpr float kBanned = -std::numeric_limits<float>::infinity();

// Bans every logit whose bit is clear (ids past the bitset included).
void ban_disallowed(const TokenBitset& allowed, std::span<float> logits) {
  const size_t size = logits.size();
  for (size_t begin = 0; begin < size; begin += 64) {
    const size_t word = begin / 64;
    const size_t end = std::min(size, begin + 64);
    const uint64_t in_row = end - begin == 64 ? ~uint64_t{0} : (uint64_t{1} << (end - begin)) - 1;
    const uint64_t bits = (word < allowed.size() ? allowed[word] : 0) & in_row;
    if (bits == in_row) continue;
    if (bits == 0) {
      std::fill(logits.begin() + static_cast<std::ptrdiff_t>(begin), logits.begin() + static_cast<std::ptrdiff_t>(end), kBanned);
      continue;
    }
    if (__builtin_popcountll(bits) < 32) {  // mostly banned: fill, then put the few back
      float kept[64];
      for (uint64_t rest = bits; rest; rest &= rest - 1) kept[__builtin_ctzll(rest)] = logits[begin + static_cast<size_t>(__builtin_ctzll(rest))];
      std::fill(logits.begin() + static_cast<std::ptrdiff_t>(begin), logits.begin() + static_cast<std::ptrdiff_t>(end), kBanned);
      for (uint64_t rest = bits; rest; rest &= rest - 1) logits[begin + static_cast<size_t>(__builtin_ctzll(rest))] = kept[__builtin_ctzll(rest)];
      continue;
    }
    // Inside strings most words miss only a few tokens: visit just those.
    for (uint64_t banned = ~bits & in_row; banned; banned &= banned - 1) logits[begin + static_cast<size_t>(__builtin_ctzll(banned))] = kBanned;
  }
}

}  // namespace

OutputConstraint::OutputConstraint(std::shared_ptr<const JsonSchemaGrammar> grammar,
                                   std::shared_ptr<const TokenTrie> vocabulary, int32_t eos_id,
                                   std::optional<int32_t> end_of_thinking_id)
    : eos_id_(eos_id),
      end_of_thinking_id_(end_of_thinking_id),
      constraining_(!end_of_thinking_id),
      answer_required_(true),
      grammar_(std::move(grammar)) {
  json_masker_.emplace(std::move(vocabulary));
  json_.emplace(*grammar_);
  json_trial_.emplace(*grammar_);
}

OutputConstraint::OutputConstraint(Rules rules, std::shared_ptr<const ToolCallVocabulary> vocabulary, int32_t eos_id,
                                   std::optional<int32_t> end_of_thinking_id)
    : eos_id_(eos_id),
      end_of_thinking_id_(end_of_thinking_id),
      constraining_(!end_of_thinking_id),
      answer_required_(rules.answer || (rules.tool_calls && rules.tool_calls->options().must_call)),
      grammar_(std::move(rules.answer)),
      tool_grammar_(std::move(rules.tool_calls)) {
  const bool must_call = tool_grammar_ && tool_grammar_->options().must_call;
  if (grammar_ && !must_call) {
    json_masker_.emplace(vocabulary->trie());
    json_.emplace(*grammar_);
    json_trial_.emplace(*grammar_);
  }
  if (tool_grammar_) {
    // Beside a JSON answer the content is that answer, so a block can only come first.
    const auto start = grammar_ ? ToolCallMatcher::Start::Block : ToolCallMatcher::Start::Content;
    tool_masker_.emplace(std::move(vocabulary));
    tools_.emplace(*tool_grammar_, start);
    tools_trial_.emplace(*tools_);
  }
}

bool OutputConstraint::may_end() const { return (json_ && json_complete_) || (tools_ && tools_->can_end()); }

bool OutputConstraint::finished() const {
  if (json_ && tools_) return false;
  return json_ ? json_finished_ : tools_ && tools_->finished();
}

void OutputConstraint::mask(std::span<float> logits) {
  const bool has_eos = eos_id_ >= 0 && static_cast<size_t>(eos_id_) < logits.size();
  if (!constraining_) {
    if (has_eos && answer_required_) logits[static_cast<size_t>(eos_id_)] = kBanned;
    return;
  }
  const float eos_logit = has_eos ? logits[static_cast<size_t>(eos_id_)] : kBanned;
  static const TokenBitset kNothing;
  const TokenBitset* json_allowed = json_ ? (json_finished_ ? &kNothing : &json_masker_->allowed(*json_)) : nullptr;
  const TokenBitset* tool_allowed = tools_ ? &tool_masker_->allowed(*tools_) : nullptr;
  if (json_allowed && tool_allowed) {
    either_ = *tool_allowed;
    for (size_t i = 0; i < std::min(either_.size(), json_allowed->size()); ++i) either_[i] |= (*json_allowed)[i];
    ban_disallowed(either_, logits);
  } else {
    ban_disallowed(json_allowed ? *json_allowed : *tool_allowed, logits);
  }
  if (has_eos) logits[static_cast<size_t>(eos_id_)] = may_end() ? eos_logit : kBanned;
}

void OutputConstraint::accept(int32_t token) {
  if (ended_) fail("constrained decoding: token ", token, " follows the end of sentence");
  if (!constraining_) {
    if (token == eos_id_ && answer_required_) {
      fail("constrained decoding: the reply ended inside its reasoning, before any answer");
    }
    if (token == *end_of_thinking_id_) constraining_ = true;
    return;
  }
  if (token == eos_id_) {
    if (!may_end()) fail("constrained decoding: the reply ended before its answer was complete");
    ended_ = true;
    return;
  }
  bool json_goes_on = false, tools_go_on = false;
  if (json_) {
    const TokenTrie& trie = json_masker_->trie();
    if (!json_finished_ && trie.usable(token)) {
      *json_trial_ = *json_;
      json_goes_on = json_trial_->advance(trie.bytes(token));
    }
  }
  if (tools_) {
    const ToolCallVocabulary& vocabulary = tool_masker_->vocabulary();
    if (vocabulary.readable(*tools_, token)) {
      *tools_trial_ = *tools_;
      tools_go_on = tools_trial_->advance(vocabulary.bytes(token));
    }
  }
  if (!json_goes_on && !tools_go_on) fail("constrained decoding: token ", token, " cannot continue the reply");
  if (json_goes_on) {
    std::swap(json_, json_trial_);
    json_complete_ = json_->can_finish();
    json_finished_ = json_complete_ && !json_->can_continue();
  } else if (json_) {
    json_.reset();
  }
  if (tools_go_on) {
    std::swap(tools_, tools_trial_);
  } else if (tools_) {
    tools_.reset();
  }
}

std::optional<OutputConstraint> ConstraintVocabulary::constraint(std::shared_ptr<const JsonSchemaGrammar> answer,
                                                                std::shared_ptr<const ToolCallGrammar> tool_calls,
                                                                int32_t eos_id,
                                                                std::optional<int32_t> end_of_thinking_id) {
  if (!answer && !tool_calls) return std::nullopt;
  if (!trie_) trie_ = TokenTrie::build(tokenizer_);
  if (!trie_->dsml_id()) tool_calls = nullptr;
  if (!tool_calls) {
    if (!answer) return std::nullopt;
    return std::optional<OutputConstraint>(std::in_place, std::move(answer), trie_, eos_id, end_of_thinking_id);
  }
  if (!tools_) tools_ = ToolCallVocabulary::build(tokenizer_, trie_);
  return std::optional<OutputConstraint>(std::in_place, OutputConstraint::Rules{std::move(answer), std::move(tool_calls)},
                                         tools_, eos_id, end_of_thinking_id);
}

}  // namespace lightseek

#include "runtime/output_constraint.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace lightseek {

OutputConstraint::OutputConstraint(std::shared_ptr<const JsonSchemaGrammar> grammar,
                                   std::shared_ptr<const TokenTrie> vocabulary, int32_t eos_id,
                                   std::optional<int32_t> end_of_thinking_id)
    : grammar_(std::move(grammar)),
      masker_(std::move(vocabulary)),
      matcher_(*grammar_),
      trial_(*grammar_),
      eos_id_(eos_id),
      end_of_thinking_id_(end_of_thinking_id),
      constraining_(!end_of_thinking_id) {}

void OutputConstraint::mask(std::span<float> logits) {
  constexpr float kBanned = -std::numeric_limits<float>::infinity();
  if (!constraining_) {
    if (eos_id_ >= 0 && static_cast<size_t>(eos_id_) < logits.size()) logits[static_cast<size_t>(eos_id_)] = kBanned;
    return;
  }
  const float eos_logit = eos_id_ >= 0 && static_cast<size_t>(eos_id_) < logits.size() ? logits[eos_id_] : kBanned;
  static const TokenBitset kNothing;
  const TokenBitset& allowed = finished_ ? kNothing : masker_.allowed(matcher_);
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
  if (complete_ && eos_id_ >= 0 && static_cast<size_t>(eos_id_) < size) logits[static_cast<size_t>(eos_id_)] = eos_logit;
}

void OutputConstraint::accept(int32_t token) {
  if (ended_) fail("structured output: token ", token, " follows the end of sentence");
  if (!constraining_) {
    if (token == eos_id_) fail("structured output: the reply ended inside its reasoning, before any answer");
    if (token == *end_of_thinking_id_) constraining_ = true;
    return;
  }
  if (token == eos_id_) {
    if (!complete_) fail("structured output: the reply ended before its JSON document was complete");
    ended_ = true;
    return;
  }
  if (finished_ || !masker_.trie().usable(token)) {
    fail("structured output: token ", token, " cannot continue the JSON document");
  }
  trial_ = matcher_;
  if (!trial_.advance(masker_.trie().bytes(token))) {
    fail("structured output: token ", token, " does not continue the JSON document");
  }
  matcher_ = trial_;
  complete_ = matcher_.can_finish();
  finished_ = complete_ && !matcher_.can_continue();
}

}  // namespace lightseek

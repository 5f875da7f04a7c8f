#include "server/choice_decoder.h"

#include <algorithm>
#include <utility>

#include "server/response_ids.h"

namespace lightseek::server {
namespace {

StopConditions stop_conditions(const GenerationRequest& request, int32_t eos_id, int64_t max_tokens) {
  StopConditions conditions;
  conditions.stop_strings = request.stop;
  conditions.stop_token_ids = {eos_id};
  conditions.max_tokens = max_tokens;
  return conditions;
}

}  // namespace

ChoiceDecoder::ChoiceDecoder(std::size_t choice, const GenerationRequest& request, const Tokenizer& tokenizer,
                             int32_t eos_id, int64_t max_tokens)
    : choice_(choice),
      tokenizer_(tokenizer),
      protocol_(request.protocol()),
      parses_output_(request.parses_output()),
      stop_strings_(request.stop),
      stop_(stop_conditions(request, eos_id, max_tokens)),
      decoder_(tokenizer, /*skip_special=*/false),
      parser_(request.output_mode()),
      in_reasoning_(request.parses_output() && request.output_mode() == ThinkingMode::Thinking) {}

void ChoiceDecoder::push(int32_t token, const StepLogprob* logprob, std::vector<GenerationEvent>& events) {
  if (finished_) return;
  if (logprob) {
    PendingLogprob pending;
    pending.entry.token = tokenizer_.token_bytes(token);
    pending.entry.logprob = logprob->logprob;
    for (const auto& [id, value] : logprob->top) pending.entry.top.push_back({tokenizer_.token_bytes(id), value});
    pending_logprobs_.push_back(std::move(pending));
  }
  ++tokens_;
  if (in_reasoning_) ++reasoning_tokens_;
  const std::string text = decoder_.push(token);
  decoded_ += text;
  const StopStep step = stop_.push(token, text);
  release(step.text, events);
  if (step.stopped()) {
    emit(parser_.finish(), events);
    finished_ = true;
    ChoiceFinished finished{choice_, finish_reason_for(step.reason, has_tool_calls_), std::nullopt};
    if (step.reason == StopReason::StopString) finished.stop_sequence = matched_stop_string();
    events.emplace_back(std::move(finished));
  }
}

void ChoiceDecoder::finish(FinishReason reason, std::vector<GenerationEvent>& events) {
  if (finished_) return;
  release(stop_.finish() + decoder_.flush(), events);
  emit(parser_.finish(), events);
  finished_ = true;
  events.emplace_back(ChoiceFinished{choice_, reason, std::nullopt});
}

void ChoiceDecoder::release(const std::string& text, std::vector<GenerationEvent>& events) {
  if (text.empty()) return;
  released_ += text.size();
  if (!parses_output_) {
    events.emplace_back(ContentDelta{choice_, text, take_logprobs(text, true)});
    return;
  }
  emit(parser_.push(text), events);
}

void ChoiceDecoder::emit(ParsedDelta delta, std::vector<GenerationEvent>& events) {
  if (!delta.reasoning.empty()) {
    take_logprobs(delta.reasoning, false);
    events.emplace_back(ReasoningDelta{choice_, std::move(delta.reasoning)});
  }
  if (!delta.content.empty()) {
    in_reasoning_ = false;
    std::vector<TokenLogprob> logprobs = take_logprobs(delta.content, true);
    events.emplace_back(ContentDelta{choice_, std::move(delta.content), std::move(logprobs)});
  }
  for (ToolCall& call : delta.tool_calls) {
    in_reasoning_ = false;
    has_tool_calls_ = true;
    if (call.id.empty()) call.id = new_tool_call_id(protocol_);
    events.emplace_back(ToolCallCompleted{choice_, std::move(call)});
  }
}

// The stop checker, the detokenizer and the parser hold text back and drop markup, so a token's
// logprob cannot be attached when the token arrives. Instead the held tokens are matched, in
// order, against the text of each delta as it is released: a token whose bytes continue the
// delta contributed to it (a token split across deltas goes with the first one), and a token
// that does not (</think>, tool-call markup, dropped whitespace) produced no text and is
// dropped. Reasoning text consumes its tokens without reporting them: OpenAI reports content
// logprobs only.
std::vector<TokenLogprob> ChoiceDecoder::take_logprobs(std::string_view text, bool content) {
  std::vector<TokenLogprob> taken;
  while (!text.empty() && !pending_logprobs_.empty()) {
    PendingLogprob& pending = pending_logprobs_.front();
    const std::string_view left = std::string_view(pending.entry.token).substr(pending.matched);
    const std::size_t overlap = std::min(left.size(), text.size());
    if (left.empty() || left.substr(0, overlap) != text.substr(0, overlap)) {
      pending_logprobs_.pop_front();
      continue;
    }
    if (content && !pending.attached) taken.push_back(pending.entry);
    pending.attached = true;
    pending.matched += overlap;
    text.remove_prefix(overlap);
    if (pending.matched == pending.entry.token.size()) pending_logprobs_.pop_front();
  }
  return taken;
}

// The checker cut the text right before the stop string that ended generation, so it is the
// one starting where the released text ends (the first listed, when several do).
std::optional<std::string> ChoiceDecoder::matched_stop_string() const {
  const std::string_view rest = std::string_view(decoded_).substr(std::min(released_, decoded_.size()));
  for (const std::string& stop : stop_strings_) {
    if (rest.substr(0, stop.size()) == stop) return stop;
  }
  return std::nullopt;
}

}  // namespace lightseek::server

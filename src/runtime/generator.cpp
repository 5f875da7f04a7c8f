#include "runtime/generator.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include "core/error.h"

namespace lightseek {
namespace {

void merge(GenerationResult& result, const ParsedDelta& delta) {
  result.reasoning += delta.reasoning;
  result.content += delta.content;
  result.tool_calls.insert(result.tool_calls.end(), delta.tool_calls.begin(), delta.tool_calls.end());
}

bool has_output(const ParsedDelta& delta) {
  return !delta.reasoning.empty() || !delta.content.empty() || !delta.tool_calls.empty();
}

}  // namespace

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::None: return "none";
    case StopReason::StopToken: return "stop token";
    case StopReason::StopString: return "stop string";
    case StopReason::MaxTokens: return "max tokens";
  }
  return "?";
}

GenerationResult generate(Session& session, const Tokenizer& tokenizer, const GenerationSettings& settings,
                          const std::function<void(const ParsedDelta&)>& on_delta, const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  GenerationResult result;
  Sampler sampler(settings.sampling);
  StopChecker stop(settings.stop);
  IncrementalDecoder decoder(tokenizer, /*skip_special=*/false);
  OutputParser parser(settings.mode);
  auto emit = [&](const ParsedDelta& delta) {
    merge(result, delta);
    if (on_delta && has_output(delta)) on_delta(delta);
  };
  auto release = [&](const std::string& text) {
    if (text.empty()) return;
    result.text += text;
    emit(parser.push(text));
  };

  // Ids the tokenizer has no token for (the embedding may have more rows than the tokenizer
  // has ids, as V4's does) must never be sampled.
  std::vector<int32_t> unusable;
  for (int32_t id = 0; id < static_cast<int32_t>(session.last_logits().size()); ++id) {
    if (!tokenizer.has_token(id)) unusable.push_back(id);
  }
  std::optional<OutputConstraint> constraint;
  if (settings.output_grammar) {
    if (settings.stop.stop_token_ids.empty()) fail("structured output needs a stop token (the end of sentence)");
    auto vocabulary = settings.output_vocabulary ? settings.output_vocabulary : TokenTrie::build(tokenizer);
    std::optional<int32_t> end_of_thinking;
    if (settings.mode == ThinkingMode::Thinking) {
      end_of_thinking = tokenizer.token_id("</think>");
      if (!end_of_thinking) fail("structured output in thinking mode needs a </think> token in the vocabulary");
    }
    constraint.emplace(settings.output_grammar, std::move(vocabulary), settings.stop.stop_token_ids.front(),
                       end_of_thinking);
  }
  std::vector<float> logits;
  while (true) {
    if (cancel && cancel->load()) {
      result.cancelled = true;
      break;
    }
    logits = session.last_logits();
    for (int32_t id : unusable) logits[id] = -std::numeric_limits<float>::infinity();
    if (constraint) constraint->mask(logits);
    const int32_t token = sampler.sample(logits, result.tokens);
    if (constraint) constraint->accept(token);
    result.tokens.push_back(token);
    // The token joins the state even when it ends generation (EOS closes the assistant turn
    // the way the prompt encoder writes it), so the next turn can continue from here.
    session.append(token);
    // The checker drops a stop token's text and anything from a stop string on.
    const StopStep step = stop.push(token, decoder.push(token));
    release(step.text);
    if (step.stopped()) {
      result.reason = step.reason;
      break;
    }
  }
  if (stop.reason() == StopReason::None) {
    // Cancelled: release what was held back as a possible stop string, then any partial
    // character (as U+FFFD).
    const std::string held = stop.finish();
    release(held + decoder.flush());
  }
  emit(parser.finish());
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace lightseek

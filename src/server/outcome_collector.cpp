#include "server/outcome_collector.h"

#include <type_traits>
#include <variant>

namespace lightseek::server {

GenerationOutcome empty_outcome(std::size_t choices) {
  GenerationOutcome outcome;
  outcome.choices.resize(choices);
  for (std::size_t i = 0; i < choices; ++i) outcome.choices[i].index = i;
  return outcome;
}

void apply_event(GenerationOutcome& outcome, const GenerationEvent& event) {
  std::visit(
      [&](const auto& e) {
        using Event = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<Event, StreamStarted>) {
          outcome.usage.prompt_tokens = e.prompt_tokens;
          outcome.usage.cached_prompt_tokens = e.cached_prompt_tokens;
        } else if constexpr (std::is_same_v<Event, StreamFinished>) {
          outcome.usage = e.usage;
        } else {
          if (e.choice >= outcome.choices.size()) return;
          FinishedChoice& choice = outcome.choices[e.choice];
          if constexpr (std::is_same_v<Event, ReasoningDelta>) {
            choice.reasoning += e.text;
          } else if constexpr (std::is_same_v<Event, ContentDelta>) {
            choice.content += e.text;
            choice.logprobs.insert(choice.logprobs.end(), e.logprobs.begin(), e.logprobs.end());
          } else if constexpr (std::is_same_v<Event, ToolCallCompleted>) {
            choice.tool_calls.push_back(e.call);
          } else if constexpr (std::is_same_v<Event, ChoiceFinished>) {
            choice.finish_reason = e.reason;
            choice.stop_sequence = e.stop_sequence;
          }
        }
      },
      event);
}

}  // namespace lightseek::server

#include "runtime/stop_checker.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace lightseek {
namespace {

// Length of the longest end of `text` that is a proper beginning of some stop string.
size_t undecided_suffix_length(std::string_view text, const std::vector<std::string>& stop_strings) {
  size_t longest = 0;
  for (const std::string& stop : stop_strings) {
    for (size_t length = std::min(text.size(), stop.size() - 1); length > longest; --length) {
      if (text.ends_with(std::string_view(stop).substr(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

}  // namespace

StopChecker::StopChecker(StopConditions conditions) : conditions_(std::move(conditions)) {
  for (size_t i = 0; i < conditions_.stop_strings.size(); ++i) {
    if (conditions_.stop_strings[i].empty()) fail("stop: stop string ", i, " is empty");
  }
  if (conditions_.max_tokens < 0) fail("stop: max_tokens must be >= 0 (0 = no limit), got ", conditions_.max_tokens);
}

StopStep StopChecker::push(int32_t token, std::string_view text) {
  StopStep step;
  if (reason_ != StopReason::None) {
    step.reason = reason_;
    return step;
  }
  ++tokens_;

  if (std::find(conditions_.stop_token_ids.begin(), conditions_.stop_token_ids.end(), token) !=
      conditions_.stop_token_ids.end()) {
    step.text = std::exchange(held_, {});
    step.reason = reason_ = StopReason::StopToken;
    return step;
  }

  held_.append(text);
  // The earliest occurrence of any stop string ends the text. Only the new text and the held
  // tail can contain one: released text was checked to start none.
  size_t stop_at = std::string::npos;
  for (const std::string& stop : conditions_.stop_strings) stop_at = std::min(stop_at, held_.find(stop));
  if (stop_at != std::string::npos) {
    step.text = held_.substr(0, stop_at);
    held_.clear();
    step.reason = reason_ = StopReason::StopString;
    return step;
  }

  if (conditions_.max_tokens > 0 && tokens_ >= conditions_.max_tokens) {
    step.text = std::exchange(held_, {});
    step.reason = reason_ = StopReason::MaxTokens;
    return step;
  }

  const size_t undecided = undecided_suffix_length(held_, conditions_.stop_strings);
  step.text = held_.substr(0, held_.size() - undecided);
  held_.erase(0, held_.size() - undecided);
  return step;
}

std::string StopChecker::finish() { return std::exchange(held_, {}); }

}  // namespace lightseek

// When to stop generating, for streaming: stop strings, stop token ids and a token budget.
// Text is released as soon as it cannot be part of a stop string, so a stream never shows
// text that a later piece would have cut off, and each character is released exactly once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lightseek {

struct StopConditions {
  std::vector<std::string> stop_strings;  // generation ends before the first occurrence of any
  std::vector<int32_t> stop_token_ids;    // e.g. EOS (id 1); their text is never released
  int64_t max_tokens = 0;                 // tokens to generate at most; 0 = no limit
};

enum class StopReason { None, StopToken, StopString, MaxTokens };

struct StopStep {
  std::string text;                      // text released by this token, safe to stream
  StopReason reason = StopReason::None;  // None: keep generating
  bool stopped() const { return reason != StopReason::None; }
};

class StopChecker {
 public:
  // Throws Error for an empty stop string or a negative max_tokens.
  explicit StopChecker(StopConditions conditions);

  // One generated token and its decoded text. When this step stops generation, everything
  // before the stop is released with it; the stop string, the stop token's text and anything
  // after them are not. After a stop, further pushes release nothing and repeat the reason.
  StopStep push(int32_t token, std::string_view text);

  // Generation ended for another reason (cancelled, context full): releases the text held
  // back as a possible start of a stop string.
  std::string finish();

  StopReason reason() const { return reason_; }
  int64_t tokens_generated() const { return tokens_; }

 private:
  StopConditions conditions_;
  std::string held_;  // released text's undecided tail: it may begin a stop string
  int64_t tokens_ = 0;
  StopReason reason_ = StopReason::None;
};

}  // namespace lightseek

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "runtime/stop_checker.h"

namespace lightseek {
namespace {

constexpr int32_t kEosId = 1;
constexpr int32_t kTextToken = 100;  // any token that is not a stop token

struct Streamed {
  std::string released;
  StopReason reason = StopReason::None;
};

// Feeds the pieces as tokens, stops feeding at the first stop, and releases the rest at the end.
Streamed stream(const StopConditions& conditions, const std::vector<std::string_view>& pieces) {
  StopChecker checker(conditions);
  Streamed result;
  for (std::string_view piece : pieces) {
    const StopStep step = checker.push(kTextToken, piece);
    result.released += step.text;
    if (step.stopped()) {
      result.reason = step.reason;
      return result;
    }
  }
  result.released += checker.finish();
  return result;
}

TEST(StopChecker, StopStringSplitAcrossPiecesReleasesTheTextBeforeItOnce) {
  StopChecker checker({{"STOP"}, {}, 0});
  StopStep step = checker.push(kTextToken, "Hello wor");
  EXPECT_EQ(step.text, "Hello wor");
  EXPECT_FALSE(step.stopped());
  step = checker.push(kTextToken, "ld! ST");
  EXPECT_EQ(step.text, "ld! ");  // "ST" may begin STOP
  EXPECT_FALSE(step.stopped());
  step = checker.push(kTextToken, "O");
  EXPECT_EQ(step.text, "");
  step = checker.push(kTextToken, "P and more");
  EXPECT_EQ(step.text, "");
  EXPECT_EQ(step.reason, StopReason::StopString);
  EXPECT_EQ(checker.finish(), "");
}

TEST(StopChecker, EverySplitFindsTheStopStringAndReleasesExactlyTheTextBeforeIt) {
  const std::string text = "The answer is 42.\n\nUser: thanks";
  const StopConditions conditions{{"\n\nUser:", "never"}, {}, 0};
  for (size_t first = 0; first <= text.size(); ++first) {
    for (size_t second = first; second <= text.size(); second += 3) {
      const std::string_view view = text;
      const Streamed result = stream(conditions, {view.substr(0, first), view.substr(first, second - first),
                                          view.substr(second)});
      ASSERT_EQ(result.released, "The answer is 42.") << first << "," << second;
      ASSERT_EQ(result.reason, StopReason::StopString);
    }
  }
  std::vector<std::string_view> characters;
  for (size_t i = 0; i < text.size(); ++i) characters.push_back(std::string_view(text).substr(i, 1));
  EXPECT_EQ(stream(conditions, characters).released, "The answer is 42.");
}

TEST(StopChecker, AStartThatDoesNotCompleteIsReleased) {
  const StopConditions conditions{{"STOP"}, {}, 0};
  StopChecker checker(conditions);
  EXPECT_EQ(checker.push(kTextToken, "ST").text, "");
  EXPECT_EQ(checker.push(kTextToken, "A").text, "STA");
  EXPECT_EQ(checker.push(kTextToken, "RT STO").text, "RT ");
  EXPECT_EQ(checker.finish(), "STO");  // ended for another reason: nothing is lost
  const Streamed result = stream(conditions, {"SSTOSTOP"});
  EXPECT_EQ(result.released, "SSTO");
  EXPECT_EQ(result.reason, StopReason::StopString);
}

TEST(StopChecker, EarliestStopStringWins) {
  const Streamed result = stream({{"world", "lo w", "xyz"}, {}, 0}, {"hel", "lo world"});
  EXPECT_EQ(result.released, "hel");
  EXPECT_EQ(result.reason, StopReason::StopString);
  EXPECT_EQ(stream({{"bc", "ab"}, {}, 0}, {"xabc"}).released, "x");
}

TEST(StopChecker, StopTokenReleasesHeldTextButNotItsOwn) {
  StopChecker checker({{"STOP"}, {kEosId}, 0});
  EXPECT_EQ(checker.push(kTextToken, "abc ST").text, "abc ");
  const StopStep step = checker.push(kEosId, "<｜end▁of▁sentence｜>");
  EXPECT_EQ(step.text, "ST");
  EXPECT_EQ(step.reason, StopReason::StopToken);
}

TEST(StopChecker, MaxTokensStopsAndReleasesHeldText) {
  StopChecker checker({{"STOP"}, {kEosId}, 3});
  EXPECT_FALSE(checker.push(kTextToken, "a").stopped());
  EXPECT_FALSE(checker.push(kTextToken, "b").stopped());
  const StopStep step = checker.push(kTextToken, "cS");
  EXPECT_EQ(step.text, "cS");
  EXPECT_EQ(step.reason, StopReason::MaxTokens);
  EXPECT_EQ(checker.tokens_generated(), 3);
  // A stop string completed by the last token still cuts the text.
  StopChecker cut({{"STOP"}, {}, 2});
  EXPECT_EQ(cut.push(kTextToken, "xST").text, "x");
  const StopStep last = cut.push(kTextToken, "OPy");
  EXPECT_EQ(last.text, "");
  EXPECT_EQ(last.reason, StopReason::StopString);
}

TEST(StopChecker, AfterAStopNothingMoreIsReleased) {
  StopChecker checker({{}, {kEosId}, 0});
  EXPECT_EQ(checker.push(kTextToken, "hi").text, "hi");
  EXPECT_EQ(checker.push(kEosId, "").reason, StopReason::StopToken);
  const StopStep after = checker.push(kTextToken, "more");
  EXPECT_EQ(after.text, "");
  EXPECT_EQ(after.reason, StopReason::StopToken);
  EXPECT_EQ(checker.finish(), "");
  EXPECT_EQ(checker.tokens_generated(), 2);
}

TEST(StopChecker, RejectsEmptyStopStringsAndNegativeBudgets) {
  EXPECT_THROW(StopChecker({{"ok", ""}, {}, 0}), Error);
  EXPECT_THROW(StopChecker({{}, {}, -1}), Error);
}

}  // namespace
}  // namespace lightseek

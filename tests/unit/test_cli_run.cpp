// `lightseek run` end to end: on the built-in model (generated into a scratch cache) and on a
// fixture checkpoint with the tiny V4-style tokenizer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <string>

#include "cli_runner.h"
#include "test_paths.h"

namespace lightseek {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class CliRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_lightseek_binary()) GTEST_SKIP() << "LIGHTSEEK_BIN is not set (run through ctest)";
  }
  std::string fixture_model() const {
    return "-m " + oracle_dir("tiny_native").string() + " --tokenizer " +
           (fixture_dir() / "tokenizer/tiny-v4/tokenizer.json").string();
  }
};

TEST_F(CliRun, BuiltInModelIsGeneratedOnFirstUseAndSaysItIsRandom) {
  const auto cache = test_temp_dir("builtin_cache");
  const std::string environment = "LIGHTSEEK_CACHE=" + cache.string();
  const auto first = run_lightseek("run -p 'Hello there' -n 5 --seed 1", environment);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("generating the built-in model"));
  EXPECT_THAT(first.output, HasSubstr("RANDOM weights"));
  EXPECT_THAT(first.output, HasSubstr("generated 5 tokens"));
  EXPECT_TRUE(std::filesystem::exists(cache / "builtin-tiny-v4-r1" / "tokenizer.json"));
  // The second run uses the cached model and, with the same seed, says the same thing.
  const auto second = run_lightseek("run -p 'Hello there' -n 5 --seed 1", environment);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_THAT(second.output, ::testing::Not(HasSubstr("generating the built-in model")));
  EXPECT_EQ(first.output.substr(0, first.output.find("generating")),
            second.output.substr(0, second.output.find("built-in model:")));
  // Hot sampling over the 129280-row head must never pick an id the tokenizer lacks (V4's
  // embedding has rows past the tokenizer's last id).
  const auto hot = run_lightseek("run -p 'Hello there' -n 200 --seed 1 --temperature 1.5", environment);
  EXPECT_EQ(hot.exit_code, 0) << hot.output;
  std::filesystem::remove_all(cache);
}

TEST_F(CliRun, StreamsAndEndsWithASummaryLine) {
  const auto result = run_lightseek("run " + fixture_model() + " -p 'What is the capital of France?' -n 12 --seed 4 "
                                    "--logit-bias 1=-100");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, MatchesRegex("(.|\n)*prompt [0-9]+ tokens \\(0 reused\\), prefill [0-9.]+ tok/s \\| "
                                          "generated 12 tokens, decode [0-9.]+ tok/s \\| stop: max tokens\n"));
}

TEST_F(CliRun, ThinkingModeLabelsTheReasoning) {
  const auto result =
      run_lightseek("run " + fixture_model() + " -p 'Think first.' --thinking -n 6 --seed 5 --logit-bias 1=-100");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("thinking: "));
}

TEST_F(CliRun, GreedyRunsAreReproducible) {
  const std::string arguments = "run " + fixture_model() + " -p 'Repeat after me' -n 10 --temperature 0";
  const auto a = run_lightseek(arguments), b = run_lightseek(arguments);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_EQ(a.output.substr(0, a.output.find("prompt ")), b.output.substr(0, b.output.find("prompt ")));
}

TEST_F(CliRun, OneThreadAndTwoThreadsGiveTheSameGreedyReply) {
  const std::string arguments = "run " + fixture_model() + " -p 'Count with me' -n 12 --temperature 0 --logit-bias 1=-100";
  const auto one = run_lightseek(arguments + " --threads 1"), two = run_lightseek(arguments + " --threads 2");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_EQ(one.output.substr(0, one.output.find("prompt ")), two.output.substr(0, two.output.find("prompt ")));
  const auto bad = run_lightseek(arguments + " --threads -1");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("--threads must be at least 1"));
}

TEST_F(CliRun, StopStringsEndTheReply) {
  // Greedy output is fixed; stopping at one of its letters keeps exactly the text before it.
  const std::string base = "run " + fixture_model() + " -p 'Repeat after me' -n 10 --temperature 0";
  const auto full = run_lightseek(base);
  ASSERT_EQ(full.exit_code, 0) << full.output;
  const std::string text = full.output.substr(0, full.output.find('\n'));
  size_t at = 1;
  while (at < text.size() && !std::isalnum(static_cast<unsigned char>(text[at]))) ++at;
  if (at >= text.size()) GTEST_SKIP() << "no letter to stop at in: " << text;
  const std::string stop(1, text[at]);
  const auto stopped = run_lightseek(base + " --stop " + stop);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  EXPECT_THAT(stopped.output, HasSubstr("stop: stop string"));
  EXPECT_EQ(stopped.output.substr(0, stopped.output.find('\n')), text.substr(0, text.find(stop)));
}

TEST_F(CliRun, BadInputGetsClearErrors) {
  auto result = run_lightseek("run -m " + oracle_dir("tiny_native").string() + " -p hi");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("no tokenizer (pass --tokenizer FILE"));
  result = run_lightseek("run " + fixture_model() + " -p \"$(printf '\\377\\376')\"");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("UTF-8"));
  result = run_lightseek("run " + fixture_model() + " -p hi --top-p 1.5");
  EXPECT_EQ(result.exit_code, 1);
  result = run_lightseek("run " + fixture_model() + " -p hi --logit-bias banana");
  EXPECT_THAT(result.output, HasSubstr("--logit-bias 'banana'"));
  result = run_lightseek("run " + fixture_model() + " -p hi --effort extreme --thinking");
  EXPECT_THAT(result.output, HasSubstr("reasoning effort must be default, high or max"));
  // A tokenizer whose ids do not fit the model's vocabulary.
  result = run_lightseek("run -m " + oracle_dir("tiny").string() + " --tokenizer " +
                         (fixture_dir() / "tokenizer/deepseek-v3/tokenizer.json").string() + " -p hi");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("model's vocabulary has 1280 entries"));
}

}  // namespace
}  // namespace lightseek

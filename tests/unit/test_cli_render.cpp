// End-to-end checks of `lightseek render` (binary path in LIGHTSEEK_BIN, set by CTest).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "cli_runner.h"
#include "test_paths.h"
#include "text/tokenizer.h"

namespace lightseek {
namespace {

using ::testing::HasSubstr;

std::string golden(const std::string& name) { return (fixture_dir() / "v4-encoding" / "tests" / name).string(); }

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CliRender : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("LIGHTSEEK_BIN")) GTEST_SKIP() << "LIGHTSEEK_BIN is not set (run through ctest)";
    dir_ = test_temp_dir("cli_render_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }
  std::filesystem::path dir_;
};

TEST_F(CliRender, GoldenInputsGiveDeepSeeksPromptsExactly) {
  const auto two = run_lightseek("render --thinking --messages " + golden("test_input_2.json"));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_EQ(two.output, read_text_file(golden("test_output_2.txt")));  // no newline added
  const auto one = run_lightseek("render --thinking --messages " + golden("test_input_1.json"));
  EXPECT_EQ(one.output, read_text_file(golden("test_output_1.txt")));
  const auto four = run_lightseek("render --messages " + golden("test_input_4.json"));
  EXPECT_EQ(four.output, read_text_file(golden("test_output_4.txt")));
}

TEST_F(CliRender, ToolsResponseFormatAndEffortFromFlags) {
  const std::string messages = write("messages.json", R"([{"role": "user", "content": "Hi"}])");
  const std::string tools = write("tools.json", R"([{"type": "function", "function": {"name": "f"}}])");
  const std::string format = write("format.json", R"({"type": "json_object"})");
  const auto result = run_lightseek("render --thinking --effort max --messages " + messages + " --tools " + tools +
                                    " --response-format " + format);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // The preamble comes first, then the system message created to carry tools and format.
  EXPECT_THAT(result.output, ::testing::StartsWith("<｜begin▁of▁sentence｜>Reasoning Effort: Absolute maximum"));
  EXPECT_THAT(result.output, HasSubstr("unchecked.\n\n\n\n## Tools\n\n"));
  EXPECT_THAT(result.output, HasSubstr("{\"name\": \"f\"}"));
  EXPECT_THAT(result.output, ::testing::EndsWith("{\"type\": \"json_object\"}<｜User｜>Hi<｜Assistant｜><think>"));
}

TEST_F(CliRender, NoDropThinkingKeepsEarlierReasoning) {
  const std::string messages = write("messages.json", R"([{"role": "user", "content": "u1"},
      {"role": "assistant", "reasoning_content": "r1", "content": "a1"}, {"role": "user", "content": "u2"}])");
  const auto result = run_lightseek("render --thinking --no-drop-thinking --messages " + messages);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("<think>r1</think>a1"));
}

TEST_F(CliRender, IdsAreTheTokenizersEncodingOfThePrompt) {
  const auto tokenizer_dir = fixture_dir() / "tokenizer" / "tiny-v4";
  const auto result = run_lightseek("render --thinking --ids -m " + tokenizer_dir.string() + " --messages " +
                                    golden("test_input_2.json"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto ids = Tokenizer::load_from_model_dir(tokenizer_dir).encode(read_text_file(golden("test_output_2.txt")));
  std::string expected = "[";
  for (size_t i = 0; i < ids.size(); ++i) expected += (i ? "," : "") + std::to_string(ids[i]);
  EXPECT_EQ(result.output, expected + "]\n");
  EXPECT_THAT(result.output, ::testing::StartsWith("[0,"));  // BOS, written as text, is one token

  const auto without_model = run_lightseek("render --ids --messages " + golden("test_input_2.json"));
  EXPECT_EQ(without_model.exit_code, 1);
  EXPECT_THAT(without_model.output, HasSubstr("--ids needs -m DIR"));
}

TEST_F(CliRender, UnreadableFileFails) {
  const auto result = run_lightseek("render --messages /nonexistent/messages.json");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("lightseek: error: cannot read /nonexistent/messages.json"));
}

TEST_F(CliRender, InvalidJsonNamesLineAndColumn) {
  const std::string messages = write("broken.json", "[{\"role\": \"user\",\n  oops}]");
  const auto result = run_lightseek("render --messages " + messages);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output,
              HasSubstr("lightseek: error: " + messages + ": invalid JSON: parse error at line 2, column"));
}

TEST_F(CliRender, BadMessagesNameTheMessage) {
  const std::string messages =
      write("roles.json", R"([{"role": "user", "content": "u"}, {"role": "robot", "content": "x"}])");
  const auto result = run_lightseek("render --messages " + messages);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("lightseek: error: " + messages + ": message 1: unknown role \"robot\""));
  const auto effort = run_lightseek("render --effort extreme --messages " + messages);
  EXPECT_EQ(effort.exit_code, 1);
  EXPECT_THAT(effort.output, HasSubstr("--effort must be high or max"));
}

}  // namespace
}  // namespace lightseek

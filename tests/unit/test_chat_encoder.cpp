// The V4 prompt encoder (spec §12.2): DeepSeek's golden vectors byte for byte, each encoding
// rule on its own, the Python-compatible JSON writer, the constants against constants.json, and
// bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/error.h"
#include "test_paths.h"
#include "text/chat_encoder.h"
#include "text/python_json.h"
#include "text/v4_prompt_constants.h"

namespace lightseek {
namespace {

using nlohmann::ordered_json;
using ::testing::HasSubstr;

const std::string kBos = "<｜begin▁of▁sentence｜>";
const std::string kEos = "<｜end▁of▁sentence｜>";
const std::string kUser = "<｜User｜>";
const std::string kAssistant = "<｜Assistant｜>";
const std::string kThink = "<think>";
const std::string kEndThink = "</think>";

std::filesystem::path encoding_fixtures() { return fixture_dir() / "v4-encoding"; }

std::string read_fixture(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

EncodeOptions thinking_mode() {
  EncodeOptions options;
  options.thinking = ThinkingMode::Thinking;
  return options;
}

std::string encode(const std::string& messages_json, const EncodeOptions& options = {}) {
  return encode_chat(parse_chat_messages(ordered_json::parse(messages_json)), options);
}

// Runs `action`, which must throw Error, and returns the message.
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no Error was thrown";
  return {};
}

std::string golden_prompt(int test, const EncodeOptions& options) {
  const auto input =
      ordered_json::parse(read_fixture(encoding_fixtures() / "tests" / ("test_input_" + std::to_string(test) + ".json")));
  return encode_chat(parse_chat_messages(input), options);
}

std::string golden_output(int test) {
  return read_fixture(encoding_fixtures() / "tests" / ("test_output_" + std::to_string(test) + ".txt"));
}

// --- DeepSeek's golden vectors (README: tests 1-3 thinking mode, test 4 chat mode) -------------

TEST(ChatEncoderGolden, ToolsInTheSystemPromptAToolCallAndItsResult) {
  // The input is {"tools": [...], "messages": [...]}; the tools attach to the first message.
  EXPECT_EQ(golden_prompt(1, thinking_mode()), golden_output(1));
}

TEST(ChatEncoderGolden, TwoTurnsDropTheFirstReasoning) {
  EXPECT_EQ(golden_prompt(2, thinking_mode()), golden_output(2));
}

TEST(ChatEncoderGolden, LatestReminderDeveloperToolsAndToolResult) {
  EXPECT_EQ(golden_prompt(3, thinking_mode()), golden_output(3));
}

TEST(ChatEncoderGolden, ActionTaskInChatMode) { EXPECT_EQ(golden_prompt(4, EncodeOptions{}), golden_output(4)); }

// --- constants ---------------------------------------------------------------------------------

TEST(ChatEncoderConstants, EveryLibraryConstantEqualsConstantsJson) {
  const auto file = ordered_json::parse(read_fixture(encoding_fixtures() / "constants.json"))["constants"];
  std::set<std::string> names_in_file;
  for (const auto& [name, entry] : file.items()) {
    if (entry["value"].is_object()) {
      for (const auto& [key, value] : entry["value"].items()) names_in_file.insert(name + "." + key);
    } else {
      names_in_file.insert(name);
    }
  }
  std::set<std::string> names_in_library;
  for (const auto& constant : v4_prompt::kAllPromptConstants) {
    const std::string name(constant.name);
    names_in_library.insert(name);
    const std::size_t dot = name.find('.');
    const ordered_json& value =
        dot == std::string::npos ? file[name]["value"] : file[name.substr(0, dot)]["value"][name.substr(dot + 1)];
    ASSERT_TRUE(value.is_string()) << name << " is not in constants.json";
    EXPECT_EQ(constant.value, value.get<std::string>()) << name;
  }
  EXPECT_EQ(names_in_library, names_in_file);
  // The task table is looked up by name: its names must be the file's keys.
  for (const auto& task : v4_prompt::kTaskTokens) {
    EXPECT_EQ(task.token, file["task_tokens"]["value"][std::string(task.task)].get<std::string>()) << task.task;
  }
}

TEST(ChatEncoderConstants, FilledToolsTemplateIsWhatTheEncoderWrites) {
  const std::string prompt = encode(R"([{"role": "system", "content": "S", "tools": [
      {"type": "function", "function": {"name": "f", "parameters": {}}}]}])");
  std::string filled(v4_prompt::kToolsTemplateFilled);
  filled.replace(filled.find("{tool_schemas}"), 14, R"({"name": "f", "parameters": {}})");
  EXPECT_EQ(prompt, kBos + "S\n\n" + filled);
}

// --- rules -------------------------------------------------------------------------------------

TEST(ChatEncoder, MaxEffortPreambleFollowsBosInThinkingModeOnly) {
  const std::string messages = R"([{"role": "system", "content": "S"}, {"role": "user", "content": "Hi"}])";
  EncodeOptions options = thinking_mode();
  options.effort = ReasoningEffort::Max;
  EXPECT_EQ(encode(messages, options),
            kBos + std::string(v4_prompt::kReasoningEffortMax) + "S" + kUser + "Hi" + kAssistant + kThink);
  options.effort = ReasoningEffort::High;  // "high" adds nothing
  EXPECT_EQ(encode(messages, options), kBos + "S" + kUser + "Hi" + kAssistant + kThink);
  EncodeOptions chat;
  chat.effort = ReasoningEffort::Max;
  EXPECT_EQ(encode(messages, chat), kBos + "S" + kUser + "Hi" + kAssistant + kEndThink);
}

TEST(ChatEncoder, ChatModeClosesThinkingAndThinkingModeOpensItForTheLastUser) {
  const std::string messages = R"([
    {"role": "system", "content": "S"},
    {"role": "user", "content": "u1"},
    {"role": "assistant", "reasoning_content": "r1", "content": "a1"},
    {"role": "user", "content": "u2"}])";
  EXPECT_EQ(encode(messages),
            kBos + "S" + kUser + "u1" + kAssistant + kEndThink + "a1" + kEos + kUser + "u2" + kAssistant + kEndThink);
  EXPECT_EQ(encode(messages, thinking_mode()),
            kBos + "S" + kUser + "u1" + kAssistant + kEndThink + "a1" + kEos + kUser + "u2" + kAssistant + kThink);
}

TEST(ChatEncoder, DropThinkingKeepsOnlyReasoningAfterTheLastUser) {
  const std::string messages = R"([
    {"role": "user", "content": "u1"},
    {"role": "assistant", "reasoning_content": "r1", "content": "a1"},
    {"role": "user", "content": "u2"},
    {"role": "assistant", "reasoning_content": "r2", "content": "a2"}])";
  EXPECT_EQ(encode(messages, thinking_mode()), kBos + kUser + "u1" + kAssistant + kEndThink + "a1" + kEos + kUser +
                                                   "u2" + kAssistant + kThink + "r2" + kEndThink + "a2" + kEos);
  EncodeOptions keep = thinking_mode();
  keep.drop_thinking = false;
  EXPECT_EQ(encode(messages, keep), kBos + kUser + "u1" + kAssistant + kThink + "r1" + kEndThink + "a1" + kEos + kUser +
                                        "u2" + kAssistant + kThink + "r2" + kEndThink + "a2" + kEos);
}

TEST(ChatEncoder, DropThinkingRemovesDeveloperMessagesBeforeTheLastUser) {
  const std::string messages = R"([
    {"role": "system", "content": "S"},
    {"role": "developer", "content": "find x"},
    {"role": "assistant", "reasoning_content": "r", "content": "a"},
    {"role": "user", "content": "more"}])";
  EXPECT_EQ(encode(messages, thinking_mode()), kBos + "S" + "a" + kEos + kUser + "more" + kAssistant + kThink);
  // Chat mode drops nothing: the developer message is a user turn.
  EXPECT_EQ(encode(messages), kBos + "S" + kUser + "find x" + kAssistant + kEndThink + "a" + kEos + kUser + "more" +
                                  kAssistant + kEndThink);
}

TEST(ChatEncoder, ToolsAnywhereSwitchDropThinkingOff) {
  const std::string messages = R"([
    {"role": "system", "content": "S", "tools": [{"type": "function", "function": {"name": "f"}}]},
    {"role": "user", "content": "u1"},
    {"role": "assistant", "reasoning_content": "r1", "content": "a1"},
    {"role": "user", "content": "u2"}])";
  const std::string prompt = encode(messages, thinking_mode());
  EXPECT_THAT(prompt, HasSubstr(kUser + "u1" + kAssistant + kThink + "r1" + kEndThink + "a1" + kEos));
  EXPECT_THAT(prompt, testing::EndsWith(kUser + "u2" + kAssistant + kThink));
}

TEST(ChatEncoder, ToolCallsAreDsmlWithPythonJsonForNonStrings) {
  const std::string expected_invoke =
      "\n\n<｜DSML｜tool_calls>\n"
      "<｜DSML｜invoke name=\"plan\">\n"
      "<｜DSML｜parameter name=\"city\" string=\"true\">Paris \"é\"\n</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"days\" string=\"false\">3</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"ratio\" string=\"false\">0.5</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"big\" string=\"false\">1e+16</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"whole\" string=\"false\">2.0</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"flags\" string=\"false\">[true, null]</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"nested\" string=\"false\">{\"k\": \"é\\n\", \"z\": {}}</｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n"
      "<｜DSML｜invoke name=\"noop\">\n"
      "\n"
      "</｜DSML｜invoke>\n"
      "</｜DSML｜tool_calls>";
  const std::string arguments =
      R"({"city": "Paris \"é\"\n", "days": 3, "ratio": 0.5, "big": 1e16, "whole": 2.0, "flags": [true, null], "nested": {"k": "é\n", "z": {}}})";
  // The OpenAI form (arguments as a JSON string) and an arguments object give the same text.
  for (const std::string& arguments_json : {ordered_json(arguments).dump(), arguments}) {
    const std::string messages = R"([{"role": "user", "content": "go"},
      {"role": "assistant", "content": "ok", "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "plan", "arguments": )" +
                                 arguments_json + R"(}},
        {"id": "2", "type": "function", "function": {"name": "noop", "arguments": "{}"}}]}])";
    EXPECT_EQ(encode(messages), kBos + kUser + "go" + kAssistant + kEndThink + "ok" + expected_invoke + kEos);
  }
}

TEST(ChatEncoder, ToolResultsAreMergedIntoOneUserTurnInTheOrderOfTheCalls) {
  const std::string messages = R"([
    {"role": "user", "content": "go"},
    {"role": "assistant", "content": "", "tool_calls": [
      {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
      {"id": "b", "type": "function", "function": {"name": "f", "arguments": "{}"}},
      {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "c", "content": "C"},
    {"role": "tool", "tool_call_id": "a", "content": "A"},
    {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "B1"}, {"type": "text", "text": "B2"}]}])";
  EXPECT_THAT(encode(messages), testing::EndsWith(kEos + kUser +
                                                  "<tool_result>A</tool_result>\n\n"
                                                  "<tool_result>B1\n\nB2</tool_result>\n\n"
                                                  "<tool_result>C</tool_result>" +
                                                  kAssistant + kEndThink));
}

TEST(ChatEncoder, ATextAfterToolResultsJoinsTheirUserTurn) {
  const std::string messages = R"([
    {"role": "user", "content": "go"},
    {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    {"role": "tool", "content": "R"},
    {"role": "user", "content": "thanks"},
    {"role": "user", "content": "and?"}])";
  EXPECT_THAT(encode(messages),
              testing::EndsWith(kUser + "<tool_result>R</tool_result>\n\nthanks\n\nand?" + kAssistant + kEndThink));
}

TEST(ChatEncoder, UnsupportedBlocksBecomePlaceholders) {
  const std::string messages = R"([
    {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "x"}}]},
    {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    {"role": "tool", "content": [{"type": "text", "text": "seen"}, {"type": "image"}]}])";
  EXPECT_EQ(encode(messages), kBos + kUser + "look\n\n[Unsupported image_url]" + kAssistant + kEndThink +
                                  "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n\n</｜DSML｜invoke>\n"
                                  "</｜DSML｜tool_calls>" +
                                  kEos + kUser + "<tool_result>seen\n\n[Unsupported image]</tool_result>" + kAssistant +
                                  kEndThink);
}

TEST(ChatEncoder, ResponseFormatFollowsTheToolsSection) {
  const std::string prompt = encode(R"([{"role": "system", "content": "S",
      "response_format": {"type": "json_schema", "schema": {"n": 1.0}}}, {"role": "user", "content": "u"}])");
  EXPECT_EQ(prompt, kBos +
                        "S\n\n## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n"
                        "{\"type\": \"json_schema\", \"schema\": {\"n\": 1.0}}" +
                        kUser + "u" + kAssistant + kEndThink);
  const std::string both = encode(R"([{"role": "system", "content": "S", "response_format": {"type": "json_object"},
      "tools": [{"type": "function", "function": {"name": "f"}}]}])");
  // The tools section ends with its own newline, so two blank lines separate the two blocks.
  EXPECT_THAT(both,
              testing::EndsWith("tool calls.\n\n\n## Response Format:\n\nYou MUST strictly adhere to the following "
                                "schema to reply:\n{\"type\": \"json_object\"}"));
}

TEST(ChatEncoder, RequestToolsGoOnTheFirstSystemMessageOrANewOne) {
  const ordered_json tools = ordered_json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  std::vector<ChatMessage> with_system =
      parse_chat_messages(ordered_json::parse(R"([{"role": "system", "content": "S"}])"));
  attach_request_options(with_system, tools, nullptr);
  ASSERT_EQ(with_system.size(), 1u);
  EXPECT_EQ(with_system[0].tools, tools);

  std::vector<ChatMessage> without_system =
      parse_chat_messages(ordered_json::parse(R"([{"role": "user", "content": "u"}])"));
  attach_request_options(without_system, tools, nullptr);
  ASSERT_EQ(without_system.size(), 2u);
  EXPECT_EQ(without_system[0].role, "system");
  EXPECT_THAT(encode_chat(without_system, {}), testing::StartsWith(kBos + "\n\n## Tools\n\n"));
  EXPECT_THAT(error_of([&] { attach_request_options(with_system, tools, nullptr); }),
              HasSubstr("tools are given twice"));
}

TEST(ChatEncoder, WithoutEosLeavesTheLastAssistantTurnOpen) {
  const std::string messages = R"([{"role": "user", "content": "u"},
    {"role": "assistant", "reasoning_content": "r", "content": "partial", "wo_eos": true}])";
  EXPECT_EQ(encode(messages, thinking_mode()), kBos + kUser + "u" + kAssistant + kThink + "r" + kEndThink + "partial");
}

TEST(ChatEncoder, TasksWriteTheirTokens) {
  // action: the assistant token, the thinking token of the mode, then <｜action｜>; the answer
  // that follows carries no reasoning.
  EXPECT_EQ(encode(R"([{"role": "user", "content": "q", "task": "action"},
                       {"role": "assistant", "reasoning_content": "ignored", "content": "Search"}])",
                   thinking_mode()),
            kBos + kUser + "q" + kAssistant + kThink + "<｜action｜>Search" + kEos);
  // Other tasks append their token right after the message.
  EXPECT_EQ(encode(R"([{"role": "user", "content": "q", "task": "query"}])", thinking_mode()),
            kBos + kUser + "q<｜query｜>");
  EXPECT_EQ(encode(R"([{"role": "user", "content": "u"}, {"role": "assistant", "content": "a", "task": "title"},
                       {"role": "assistant", "content": "T"}])",
                   thinking_mode()),
            kBos + kUser + "u" + kAssistant + kThink + kEndThink + "a" + kEos + "<｜title｜>T" + kEos);
}

TEST(ChatEncoder, TheAssistantTokenPrecedesALatestReminder) {
  EXPECT_EQ(encode(R"([{"role": "user", "content": "u"}, {"role": "latest_reminder", "content": "r"}])"),
            kBos + kUser + "u" + kAssistant + kEndThink + "<｜latest_reminder｜>r");
}

TEST(ChatEncoder, ContinuingAContextWritesOnlyTheNewMessagesWithoutBos) {
  const auto conversation = ordered_json::parse(read_fixture(encoding_fixtures() / "tests" / "test_input_2.json"));
  std::vector<ChatMessage> messages = parse_chat_messages(conversation);  // system, user, assistant, user, assistant
  messages.pop_back();
  EncodeOptions continued = thinking_mode();
  continued.context_size = 3;
  EXPECT_EQ(encode_chat(messages, continued), kUser + "What is the capital of France?" + kAssistant + kThink);

  // In chat mode nothing depends on later turns, so context + continuation is the whole prompt.
  EncodeOptions chat;
  const std::vector<ChatMessage> context(messages.begin(), messages.begin() + 3);
  chat.context_size = 3;
  EXPECT_EQ(encode_chat(context, {}) + encode_chat(messages, chat), encode_chat(messages, {}));

  EncodeOptions without_bos;
  without_bos.add_bos = false;
  EXPECT_EQ(encode_chat(context, without_bos), encode_chat(context, {}).substr(kBos.size()));
}

TEST(ChatEncoder, MessagesBuiltInCppAreEncodedLikeParsedOnes) {
  ChatMessage user;
  user.role = "user";
  user.content = "What's 2+2?";
  ChatMessage assistant;
  assistant.role = "assistant";
  assistant.reasoning_content = "Add.";
  assistant.tool_calls.push_back({"id1", "calc", ordered_json::parse(R"({"expr": "2+2", "exact": true})")});
  EXPECT_EQ(encode_chat({user, assistant}, thinking_mode()),
            kBos + kUser + "What's 2+2?" + kAssistant + kThink + "Add." + kEndThink +
                "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"calc\">\n"
                "<｜DSML｜parameter name=\"expr\" string=\"true\">2+2</｜DSML｜parameter>\n"
                "<｜DSML｜parameter name=\"exact\" string=\"false\">true</｜DSML｜parameter>\n"
                "</｜DSML｜invoke>\n</｜DSML｜tool_calls>" +
                kEos);
}

// --- Python-compatible JSON ----------------------------------------------------------------------

TEST(ChatEncoderPythonJson, MatchesJsonDumpsWithEnsureAsciiFalse) {
  // Expected text from Python 3.11: json.dumps(value, ensure_ascii=False).
  ordered_json value = ordered_json::object();
  value["k\n\"\\\x01\x1f\x7f é😀\u2028"] =
      ordered_json::parse(R"(["\b\f\r\t", 1.0, 1e-05, 1e16, -0.0, 12, null, true, {}, []])");
  value["n"] = {{"x", 0.1}};
  EXPECT_EQ(
      to_python_json(value),
      "{\"k\\n\\\"\\\\\\u0001\\u001f\x7f é😀\u2028\": [\"\\b\\f\\r\\t\", 1.0, 1e-05, 1e+16, -0.0, 12, null, true, {}, "
      "[]], \"n\": {\"x\": 0.1}}");
}

TEST(ChatEncoderPythonJson, FloatsAreWrittenLikePythonRepr) {
  const std::pair<double, const char*> cases[] = {
      {0.0, "0.0"},
      {1.0, "1.0"},
      {-2.5, "-2.5"},
      {0.1, "0.1"},
      {1e-4, "0.0001"},
      {1e-5, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {1e15, "1000000000000000.0"},
      {1e16, "1e+16"},
      {1.5e300, "1.5e+300"},
      {5e-324, "5e-324"},
      {123456.789, "123456.789"},
      {9007199254740993.0, "9007199254740992.0"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
      {std::nan(""), "NaN"},
  };
  for (const auto& [value, expected] : cases) EXPECT_EQ(python_float_repr(value), expected) << expected;
  EXPECT_EQ(to_python_json(ordered_json::parse("[18446744073709551615, -9223372036854775808]")),
            "[18446744073709551615, -9223372036854775808]");
}

TEST(ChatEncoderPythonJson, InvalidUtf8IsAnError) {
  EXPECT_THAT(error_of([] { to_python_json(ordered_json("ab\xC3")); }), HasSubstr("UTF-8"));
  EXPECT_THAT(error_of([] { to_python_json(ordered_json{{"\xED\xA0\x80", 1}}); }), HasSubstr("UTF-8"));
}

// --- bad input -------------------------------------------------------------------------------------

TEST(ChatEncoderErrors, MessagesMustBeAnArrayOfObjects) {
  EXPECT_THAT(error_of([] { parse_chat_messages(ordered_json::parse("42")); }),
              HasSubstr("expected an array of messages"));
  EXPECT_THAT(error_of([] { parse_chat_messages(ordered_json::parse(R"({"tools": []})")); }),
              HasSubstr("no \"messages\" array"));
  EXPECT_THAT(error_of([] { parse_chat_messages(ordered_json::parse(R"({"messages": "hi"})")); }),
              HasSubstr("expected an array of messages"));
  EXPECT_THAT(error_of([] { parse_chat_messages(ordered_json::parse(R"([{"role": "user", "content": "u"}, 7])")); }),
              HasSubstr("message 1: must be a JSON object"));
  EXPECT_THAT(error_of([] { parse_chat_messages(ordered_json::parse(R"([{"content": "u"}])")); }),
              HasSubstr("message 0: has no \"role\""));
}

TEST(ChatEncoderErrors, UnknownRolesAndTasks) {
  EXPECT_THAT(error_of([] { encode(R"([{"role": "user", "content": "u"}, {"role": "wizard", "content": "x"}])"); }),
              HasSubstr("message 1: unknown role \"wizard\""));
  const std::string task_error = error_of([] { encode(R"([{"role": "user", "content": "u", "task": "fly"}])"); });
  EXPECT_THAT(task_error, HasSubstr("message 0 (user): task \"fly\" is not a V4 task"));
  EXPECT_THAT(task_error, HasSubstr("action, query"));
}

TEST(ChatEncoderErrors, ContentOfTheWrongType) {
  EXPECT_THAT(error_of([] { encode(R"([{"role": "system", "content": 5}])"); }),
              HasSubstr("message 0 (system): content must be a string, got a number"));
  EXPECT_THAT(error_of([] { encode(R"([{"role": "user", "content": {"text": "u"}}])"); }),
              HasSubstr("message 0 (user): content must be a string or an array of content blocks, got an object"));
  EXPECT_THAT(error_of([] { encode(R"([{"role": "user", "content": [{"text": "no type"}]}])"); }),
              HasSubstr("message 0 (user): content[0] has no \"type\" string"));
  EXPECT_THAT(error_of([] { encode(R"([{"role": "user", "content": [{"type": "text", "text": 3}]}])"); }),
              HasSubstr("content[0].text must be a string"));
  EXPECT_THAT(error_of([] { encode(R"([{"role": "developer", "content": ""}])"); }),
              HasSubstr("message 0 (developer): content must be a non-empty string"));
  EXPECT_THAT(error_of([] { encode(R"([{"role": "latest_reminder"}])"); }),
              HasSubstr("message 0 (latest_reminder): content must be a string, got null"));
  EXPECT_THAT(error_of([] { encode(R"([{"role": "system", "content": "S", "tools": {"name": "f"}}])"); }),
              HasSubstr("tools must be an array"));
  EXPECT_THAT(error_of([] { encode(R"([{"role": "system", "content": "S", "tools": [{"name": "f"}]}])"); }),
              HasSubstr("tools[0] must be an object with a \"function\" object"));
  EXPECT_THAT(error_of([] { encode(R"([{"role": "user", "content": "u", "wo_eos": "yes"}])"); }),
              HasSubstr("message 0: wo_eos must be a boolean"));
}

TEST(ChatEncoderErrors, ToolCallsNeedANameAndObjectArguments) {
  const auto with_call = [](const std::string& call) {
    return R"([{"role": "user", "content": "u"}, {"role": "assistant", "tool_calls": [)" + call + "]}]";
  };
  EXPECT_THAT(error_of([&] { encode(with_call(R"({"type": "function", "function": {"arguments": "{}"}})")); }),
              HasSubstr("message 1: tool_calls[0] has no function name"));
  EXPECT_THAT(error_of([&] { encode(with_call(R"({"name": "f", "arguments": "{}"})")); }),
              HasSubstr("message 1: tool_calls[0] has no \"function\" object"));
  EXPECT_THAT(error_of([&] { encode(with_call(R"({"function": {"name": "f", "arguments": "[1, 2]"}})")); }),
              HasSubstr("message 1: tool_calls[0].function.arguments must hold a JSON object, got an array"));
  EXPECT_THAT(error_of([&] { encode(with_call(R"({"function": {"name": "f", "arguments": "{\"a\": "}})")); }),
              HasSubstr("message 1: tool_calls[0].function.arguments is not valid JSON: parse error at line 1"));
  EXPECT_THAT(error_of([&] { encode(with_call(R"({"function": {"name": "f", "arguments": 5}})")); }),
              HasSubstr("must be a JSON object or a string holding one, got a number"));
  EXPECT_THAT(error_of([&] { encode(with_call(R"({"function": {"name": "f"}})")); }),
              HasSubstr("tool_calls[0].function.arguments is missing"));
  EXPECT_THAT(error_of([] {
                encode(R"([{"role": "user", "content": "u", "tool_calls": [
                          {"function": {"name": "f", "arguments": "{}"}}]}])");
              }),
              HasSubstr("message 0 (user): only assistant messages can have tool_calls"));
}

TEST(ChatEncoderErrors, ToolResultsNeedACallAndIdsWhenTheyAreReordered) {
  EXPECT_THAT(error_of([] { encode(R"([{"role": "user", "content": "u"}, {"role": "tool", "content": "r"}])"); }),
              HasSubstr("message 1 (tool): a tool result must follow an assistant message with tool_calls"));
  const std::string calls = R"([{"role": "user", "content": "u"}, {"role": "assistant", "tool_calls": [
      {"id": "a", "function": {"name": "f", "arguments": "{}"}},
      {"id": "b", "function": {"name": "f", "arguments": "{}"}}]},)";
  EXPECT_THAT(
      error_of([&] {
        encode(calls + R"({"role": "tool", "tool_call_id": "b", "content": "B"}, {"role": "tool", "content": "A"}])");
      }),
      HasSubstr("message 3: this tool result has no tool_call_id"));
  EXPECT_THAT(error_of([&] {
                encode(calls + R"({"role": "tool", "tool_call_id": "b", "content": "B"},
                                  {"role": "tool", "tool_call_id": "z", "content": "Z"}])");
              }),
              HasSubstr("message 3: tool_call_id \"z\" matches none of the tool call ids of assistant message 1"));
  // A single result needs no id: there is nothing to order (DeepSeek's test 3 relies on this).
  EXPECT_NO_THROW(encode(calls + R"({"role": "tool", "content": "B"}])"));
}

TEST(ChatEncoderErrors, StringsFromCppMustBeUtf8) {
  ChatMessage user;
  user.role = "user";
  user.content = "caf\xC3";
  EXPECT_THAT(error_of([&] { encode_chat({user}, {}); }), HasSubstr("message 0: content is not valid UTF-8 (byte 3)"));
  user.content = "ok";
  ChatMessage assistant;
  assistant.role = "assistant";
  assistant.reasoning_content = "\xFF";
  EXPECT_THAT(error_of([&] {
                encode_chat({user, assistant}, {});
              }),
              HasSubstr("message 1: reasoning_content is not valid UTF-8"));
  assistant.reasoning_content.clear();
  assistant.tool_calls.push_back({"", "f", ordered_json{{"path", "\xC0\xAF"}}});
  EXPECT_THAT(error_of([&] {
                encode_chat({user, assistant}, {});
              }),
              HasSubstr("message 1: tool_calls[0].function.arguments.path is not valid UTF-8"));
  assistant.tool_calls[0] = {"", "", ordered_json::object()};
  EXPECT_THAT(error_of([&] {
                encode_chat({user, assistant}, {});
              }),
              HasSubstr("message 1 (assistant): tool_calls[0] has no function name"));
  assistant.tool_calls[0] = {"", "f", ordered_json::array()};
  EXPECT_THAT(error_of([&] {
                encode_chat({user, assistant}, {});
              }),
              HasSubstr("tool_calls[0].function.arguments must be a JSON object, got an array"));
}

TEST(ChatEncoderErrors, ContextLongerThanTheConversation) {
  EncodeOptions options;
  options.context_size = 2;
  EXPECT_THAT(error_of([&] { encode(R"([{"role": "user", "content": "u"}])", options); }), HasSubstr("context_size 2"));
}

}  // namespace
}  // namespace lightseek

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_paths.h"
#include "text/output_parser.h"

namespace lightseek {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr std::string_view kEndOfSentence = "<｜end▁of▁sentence｜>";

struct Parsed {
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> calls;
};

void add(Parsed& into, ParsedDelta delta) {
  into.reasoning += delta.reasoning;
  into.content += delta.content;
  for (ToolCall& call : delta.tool_calls) into.calls.push_back(std::move(call));
}

Parsed parse_pieces(ThinkingMode mode, const std::vector<std::string_view>& pieces) {
  OutputParser parser(mode);
  Parsed parsed;
  for (std::string_view piece : pieces) add(parsed, parser.push(piece));
  add(parsed, parser.finish());
  return parsed;
}

Parsed parse_whole(ThinkingMode mode, std::string_view text) { return parse_pieces(mode, {text}); }

// One readable string per result, so that a mismatch shows everything at once.
std::string describe(const Parsed& parsed) {
  std::string out = "reasoning=[" + parsed.reasoning + "] content=[" + parsed.content + "]";
  for (const ToolCall& call : parsed.calls) out += " call " + call.name + call.arguments.dump();
  return out;
}

// Byte positions are stricter than the contract (whole UTF-8 pieces): the parser must not
// depend on where pieces end at all.
void expect_split_invariant(ThinkingMode mode, std::string_view text) {
  const std::string whole = describe(parse_whole(mode, text));
  for (size_t split = 0; split <= text.size(); ++split) {
    ASSERT_EQ(describe(parse_pieces(mode, {text.substr(0, split), text.substr(split)})), whole)
        << "split at byte " << split << " of: " << text;
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  ASSERT_EQ(describe(parse_pieces(mode, bytes)), whole) << "byte by byte: " << text;

  std::mt19937 random(1234);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::string_view> pieces;
    for (size_t at = 0; at < text.size();) {
      const size_t length = std::uniform_int_distribution<size_t>(0, 12)(random);  // empty pieces too
      pieces.push_back(text.substr(at, length));
      at += std::min(length, text.size() - at);
    }
    ASSERT_EQ(describe(parse_pieces(mode, pieces)), whole) << "random pieces, trial " << trial << ": " << text;
  }
}

// ---- the golden assistant turns of DeepSeek's encoder tests ----

// The repository's copy of DeepSeek's encoder fixtures, else the shared one it was taken from.
std::string read_encoder_fixture(int test) {
  const std::filesystem::path relative =
      std::filesystem::path("v4-encoding") / "tests" / ("test_output_" + std::to_string(test) + ".txt");
  std::filesystem::path path = fixture_dir() / relative;
  if (!std::filesystem::exists(path)) path = std::filesystem::path(LIGHTSEEK_SHARED_DIR) / "fixtures" / relative;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct GeneratedTurn {
  ThinkingMode mode;       // what the prompt ended with: <think> or </think>
  std::string generation;  // what the model generated, EOS text included
};

// Each assistant turn of an encoded conversation, as the model would have generated it: the
// prompt ends with <｜Assistant｜> plus <think> (thinking) or </think> (chat, or dropped
// reasoning), and generation runs to EOS.
std::vector<GeneratedTurn> assistant_turns(const std::string& conversation) {
  constexpr std::string_view kAssistant = "<｜Assistant｜>";
  std::vector<GeneratedTurn> turns;
  for (size_t at = conversation.find(kAssistant); at != std::string::npos;
       at = conversation.find(kAssistant, at + 1)) {
    std::string_view rest = std::string_view(conversation).substr(at + kAssistant.size());
    GeneratedTurn turn{ThinkingMode::Chat, {}};
    if (rest.starts_with("<think>")) {
      turn.mode = ThinkingMode::Thinking;
      rest.remove_prefix(std::string_view("<think>").size());
    } else {
      EXPECT_TRUE(rest.starts_with("</think>")) << rest.substr(0, 40);
      rest.remove_prefix(std::string_view("</think>").size());
    }
    const size_t end = rest.find(kEndOfSentence);
    EXPECT_NE(end, std::string_view::npos);
    turn.generation = std::string(rest.substr(0, end + kEndOfSentence.size()));
    turns.push_back(std::move(turn));
  }
  return turns;
}

struct ExpectedTurn {
  int test;
  size_t turn;
  ThinkingMode mode;
  std::string reasoning;
  std::string content;
  std::vector<std::pair<std::string, ordered_json>> calls;
};

// Test 1 first and last turns and test 2 last turn are the values DeepSeek's own tests parse
// (fixtures README); the others are read off the fixtures.
std::vector<ExpectedTurn> expected_turns() {
  return {
      {1, 0, ThinkingMode::Thinking,
       "The user wants to know the weather in Beijing. I should use the get_weather tool.", "",
       {{"get_weather", ordered_json::parse(R"({"location": "Beijing", "unit": "celsius"})")}}},
      {1, 1, ThinkingMode::Thinking, "Got the weather data. Let me format a nice response.",
       "The weather in Beijing is currently sunny with a temperature of 22°C and 45% humidity.", {}},
      {2, 0, ThinkingMode::Chat, "", "Hi there! How can I help you?", {}},
      {2, 1, ThinkingMode::Thinking, "The user asks about the capital of France. It is Paris.",
       "The capital of France is Paris.", {}},
      {3, 0, ThinkingMode::Thinking, "用户想知道小柴胡冲剂和布洛芬能否一起服用。", "",
       {{"search", ordered_json::parse(R"({"queries": "小柴胡冲剂 布洛芬 相互作用 一起吃"})")}}},
      {3, 1, ThinkingMode::Thinking, "现在开始组织回答。", "请及时就医。", {}},
  };
}

GeneratedTurn golden_turn(const ExpectedTurn& expected) {
  const std::vector<GeneratedTurn> turns = assistant_turns(read_encoder_fixture(expected.test));
  EXPECT_LT(expected.turn, turns.size());
  return expected.turn < turns.size() ? turns[expected.turn] : GeneratedTurn{ThinkingMode::Chat, {}};
}

TEST(OutputParser, GoldenTurnsGiveDeepSeeksValues) {
  for (const ExpectedTurn& expected : expected_turns()) {
    SCOPED_TRACE("test " + std::to_string(expected.test) + " turn " + std::to_string(expected.turn));
    const GeneratedTurn turn = golden_turn(expected);
    ASSERT_EQ(turn.mode, expected.mode);
    const Parsed parsed = parse_whole(turn.mode, turn.generation);
    EXPECT_EQ(parsed.reasoning, expected.reasoning);
    EXPECT_EQ(parsed.content, expected.content);
    ASSERT_EQ(parsed.calls.size(), expected.calls.size());
    for (size_t i = 0; i < parsed.calls.size(); ++i) {
      EXPECT_EQ(parsed.calls[i].name, expected.calls[i].first);
      EXPECT_EQ(parsed.calls[i].arguments.dump(), expected.calls[i].second.dump());  // key order too
      EXPECT_TRUE(parsed.calls[i].id.empty());
    }
  }
}

TEST(OutputParser, GoldenTurnsAreIndependentOfSplitPoints) {
  for (const ExpectedTurn& expected : expected_turns()) {
    SCOPED_TRACE("test " + std::to_string(expected.test) + " turn " + std::to_string(expected.turn));
    const GeneratedTurn turn = golden_turn(expected);
    expect_split_invariant(turn.mode, turn.generation);
  }
}

TEST(OutputParser, EndOfSentenceTextIsOptionalAndNeverContent) {
  for (const ExpectedTurn& expected : expected_turns()) {
    const GeneratedTurn turn = golden_turn(expected);
    const std::string without_eos = turn.generation.substr(0, turn.generation.size() - kEndOfSentence.size());
    EXPECT_EQ(describe(parse_whole(turn.mode, without_eos)), describe(parse_whole(turn.mode, turn.generation)));
  }
  EXPECT_EQ(parse_whole(ThinkingMode::Chat, "Hello<｜end▁of▁sentence｜>").content, "Hello");
}

// ---- streaming behaviour ----

TEST(OutputParser, ReleasesTextAsSoonAsItIsDecided) {
  OutputParser parser(ThinkingMode::Thinking);
  EXPECT_EQ(parser.push("Let me think").reasoning, "Let me think");
  EXPECT_EQ(parser.push(" a</th").reasoning, " a");  // "</th" may begin </think>
  ParsedDelta delta = parser.push("ink>Sure");
  EXPECT_EQ(delta.reasoning, "");
  EXPECT_EQ(delta.content, "Sure");
  EXPECT_EQ(parser.push(", 1 <").content, ", 1 ");  // "<" may begin a tool block
  EXPECT_EQ(parser.push(" 2 is true.\n").content, "< 2 is true.");
  EXPECT_EQ(parser.push("\nDone").content, "\n\nDone");
  EXPECT_EQ(parser.finish().content, "");
}

TEST(OutputParser, EachToolCallIsEmittedWhenItsInvokeCloses) {
  const std::string first =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
      "<｜DSML｜parameter name=\"location\" string=\"true\">Paris</｜DSML｜parameter>\n</｜DSML｜invoke";
  OutputParser parser(ThinkingMode::Chat);
  ParsedDelta delta = parser.push("Checking." + first);
  EXPECT_EQ(delta.content, "Checking.");
  EXPECT_TRUE(delta.tool_calls.empty());
  delta = parser.push(">\n<｜DSML｜invoke name=\"search\">\n<｜DSML｜parameter name=\"query\" string=\"true\">x");
  ASSERT_EQ(delta.tool_calls.size(), 1u);
  EXPECT_EQ(delta.tool_calls[0].name, "get_weather");
  EXPECT_EQ(delta.tool_calls[0].arguments.dump(), R"({"location":"Paris"})");
  delta = parser.push("</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>");
  ASSERT_EQ(delta.tool_calls.size(), 1u);
  EXPECT_EQ(delta.tool_calls[0].name, "search");
  EXPECT_EQ(delta.content, "");
  delta = parser.finish();
  EXPECT_TRUE(delta.tool_calls.empty());
  EXPECT_EQ(delta.content, "");
}

// ---- parameter values ----

TEST(OutputParser, NonStringParametersAreJsonAndKeyOrderIsKept) {
  const std::string text =
      "</think>\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"search\">\n"
      "<｜DSML｜parameter name=\"query\" string=\"true\">42</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"num_results\" string=\"false\">5</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"filters\" string=\"false\">{\"lang\": \"zh\", \"tags\": [1, 2.5, null]}"
      "</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"exact\" string=\"false\">true</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"broken\" string=\"false\">{not json</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"empty\" string=\"false\"></｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"a\" string=\"true\"></｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  const Parsed parsed = parse_whole(ThinkingMode::Thinking, text);
  EXPECT_EQ(parsed.content, "");
  ASSERT_EQ(parsed.calls.size(), 1u);
  const ordered_json& arguments = parsed.calls[0].arguments;
  EXPECT_EQ(arguments.dump(),
            R"({"query":"42","num_results":5,"filters":{"lang":"zh","tags":[1,2.5,null]},"exact":true,)"
            R"("broken":"{not json","empty":"","a":""})");
  expect_split_invariant(ThinkingMode::Thinking, text);
}

TEST(OutputParser, StringValuesKeepMarkupLikeTextAndNewlines) {
  const std::string value = "if a < b && c > d:\n    print(\"</think>\") # <｜DSML｜invoke name=\"x\">\n\n";
  const std::string text = "<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"run\">\n"
                           "<｜DSML｜parameter name=\"code\" string=\"true\">" +
                           value + "</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  const Parsed parsed = parse_whole(ThinkingMode::Chat, text);
  ASSERT_EQ(parsed.calls.size(), 1u);
  EXPECT_EQ(parsed.calls[0].arguments["code"].get<std::string>(), value);
  EXPECT_EQ(parsed.content, "");  // the block is accepted without the blank line before it
  expect_split_invariant(ThinkingMode::Chat, text);
}

TEST(OutputParser, InvokeWithoutParametersHasEmptyArguments) {
  const std::string text =
      "Now.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_time\">\n\n</｜DSML｜invoke>\n"
      "<｜DSML｜invoke name=\"get_date\"></｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  const Parsed parsed = parse_whole(ThinkingMode::Chat, text);
  EXPECT_EQ(parsed.content, "Now.");
  ASSERT_EQ(parsed.calls.size(), 2u);
  EXPECT_EQ(parsed.calls[0].name, "get_time");
  EXPECT_EQ(parsed.calls[0].arguments.dump(), "{}");
  EXPECT_EQ(parsed.calls[1].name, "get_date");
  expect_split_invariant(ThinkingMode::Chat, text);
}

// ---- modes ----

TEST(OutputParser, ChatModeIsContentUnlessGenerationOpensWithThink) {
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, "Hi </think> there <think>")),
            "reasoning=[] content=[Hi </think> there <think>]");
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, "<think>hmm</think>Hi")), "reasoning=[hmm] content=[Hi]");
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, " <think>x")), "reasoning=[] content=[ <think>x]");
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, "<thin")), "reasoning=[] content=[<thin]");
  // A redundant <think> in thinking mode is markup too.
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Thinking, "<think>a</think>b")), "reasoning=[a] content=[b]");
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Thinking, "<thin")), "reasoning=[<thin] content=[]");
  expect_split_invariant(ThinkingMode::Chat, "<think>hmm</think>Hi");
  expect_split_invariant(ThinkingMode::Chat, "<thin");
}

// ---- malformed generations never lose text ----

TEST(OutputParser, MissingThinkEndMeansEverythingWasReasoning) {
  for (const std::string text : {"I am still thinking", "I am still thinking </thi", "a < b", ""}) {
    EXPECT_EQ(describe(parse_whole(ThinkingMode::Thinking, text)), "reasoning=[" + text + "] content=[]");
    expect_split_invariant(ThinkingMode::Thinking, text);
  }
}

TEST(OutputParser, SecondThinkEndIsContent) {
  const std::string text = "plan</think>answer</think> more";
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Thinking, text)), "reasoning=[plan] content=[answer</think> more]");
  expect_split_invariant(ThinkingMode::Thinking, text);
}

TEST(OutputParser, StrayAngleBracketsAndPartialMarkersInContentAreKept) {
  const std::string text = "x<y, <b>bold</b>, </t, <｜DS, \n\n<｜DSML｜ and \n\n<｜DSML｜tool_call <";
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, text)), "reasoning=[] content=[" + text + "]");
  expect_split_invariant(ThinkingMode::Chat, text);
  const std::string thinking = "r < s </thin k</think>" + text;
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Thinking, thinking)),
            "reasoning=[r < s </thin k] content=[" + text + "]");
  expect_split_invariant(ThinkingMode::Thinking, thinking);
}

TEST(OutputParser, TruncatedBlockBeforeAnyCallIsContentVerbatim) {
  const std::string block =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
      "<｜DSML｜parameter name=\"location\" string=\"true\">Bei";
  for (size_t end = 1; end <= block.size(); ++end) {
    const std::string text = "r</think>Let me check." + block.substr(0, end);
    const Parsed parsed = parse_whole(ThinkingMode::Thinking, text);
    ASSERT_EQ(parsed.reasoning, "r");
    ASSERT_EQ(parsed.content, "Let me check." + block.substr(0, end)) << end;
    ASSERT_TRUE(parsed.calls.empty());
  }
  expect_split_invariant(ThinkingMode::Thinking, "r</think>Let me check." + block);
}

TEST(OutputParser, TruncatedSecondInvokeKeepsTheFirstCall) {
  const std::string text =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"a\">\n"
      "<｜DSML｜parameter name=\"k\" string=\"false\">[1]</｜DSML｜parameter>\n</｜DSML｜invoke>\n"
      "<｜DSML｜invoke name=\"b\">\n<｜DSML｜parameter name=\"k\" string=\"tr";
  const Parsed parsed = parse_whole(ThinkingMode::Chat, text);
  ASSERT_EQ(parsed.calls.size(), 1u);
  EXPECT_EQ(parsed.calls[0].arguments.dump(), R"({"k":[1]})");
  EXPECT_EQ(parsed.content, "\n<｜DSML｜invoke name=\"b\">\n<｜DSML｜parameter name=\"k\" string=\"tr");
  expect_split_invariant(ThinkingMode::Chat, text);
}

TEST(OutputParser, BlockMissingOnlyItsClosingTagIsAccepted) {
  const std::string calls =
      "Go.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"a\">\n"
      "<｜DSML｜parameter name=\"k\" string=\"true\">v</｜DSML｜parameter>\n</｜DSML｜invoke>";
  for (const std::string tail : {"", "\n", "\n</｜DSML｜tool", "\n</｜DSML｜tool_calls"}) {
    const Parsed parsed = parse_whole(ThinkingMode::Chat, calls + tail);
    EXPECT_EQ(parsed.content, "Go.") << tail;
    EXPECT_EQ(parsed.calls.size(), 1u) << tail;
    expect_split_invariant(ThinkingMode::Chat, calls + tail);
  }
}

TEST(OutputParser, UnknownTagInBlockMakesTheRestContent) {
  const std::string bad_block =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜function name=\"a\">\n</｜DSML｜function>\n</｜DSML｜tool_calls>";
  const std::string text = "Hmm." + bad_block + " after";
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, text)), "reasoning=[] content=[" + text + "]");
  expect_split_invariant(ThinkingMode::Chat, text);

  // A bad attribute after a good call: the call stays, the rest is content verbatim.
  const std::string good = "<｜DSML｜invoke name=\"a\">\n</｜DSML｜invoke>";
  const std::string rest = "\n<｜DSML｜invoke name=\"b\">\n<｜DSML｜parameter name=\"k\" string=\"maybe\">v"
                           "</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  const std::string mixed = "\n\n<｜DSML｜tool_calls>\n" + good + rest;
  const Parsed parsed = parse_whole(ThinkingMode::Chat, mixed);
  ASSERT_EQ(parsed.calls.size(), 1u);
  EXPECT_EQ(parsed.calls[0].name, "a");
  EXPECT_EQ(parsed.content, rest);
  expect_split_invariant(ThinkingMode::Chat, mixed);

  for (const std::string text : {"\n\n<｜DSML｜tool_callsX", "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"a\nb\">",
                                 "<｜DSML｜tool_calls><｜DSML｜invoke name=\"a\"></｜DSML｜parameter>"}) {
    EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, text)), "reasoning=[] content=[" + text + "]");
    expect_split_invariant(ThinkingMode::Chat, text);
  }
}

TEST(OutputParser, TextAfterABrokenTagIsScannedAgain) {
  const std::string block =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"a\">\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  const std::string text = "\n\n<｜DSML｜tool_callsX" + block;
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, text)), "reasoning=[] content=[\n\n<｜DSML｜tool_callsX] call a{}");
  expect_split_invariant(ThinkingMode::Chat, text);
}

TEST(OutputParser, TextAfterTheBlock) {
  const std::string block =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"a\">\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  // Whitespace and EOS after the block are formatting, not content.
  for (const std::string tail : {"", "\n", " \n\n ", "<｜end▁of▁sentence｜>", "\n<｜end▁of▁sentence｜>"}) {
    EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, "A" + block + tail)), "reasoning=[] content=[A] call a{}");
    expect_split_invariant(ThinkingMode::Chat, "A" + block + tail);
  }
  // Other text is kept, with its leading whitespace; a second block is parsed too.
  const std::string text = "A" + block + "\n\nB <c" + block + "\n";
  EXPECT_EQ(describe(parse_whole(ThinkingMode::Chat, text)), "reasoning=[] content=[A\n\nB <c] call a{} call a{}");
  expect_split_invariant(ThinkingMode::Chat, text);
}

// A well-formed generation as a list of its tags and texts, so that tests can break it.
std::vector<std::string> random_generation(std::mt19937& random) {
  const auto pick = [&random](const std::vector<std::string>& options) {
    return options[std::uniform_int_distribution<size_t>(0, options.size() - 1)(random)];
  };
  const auto count = [&random](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  std::vector<std::string> parts;
  for (const std::string& part : {pick({"", "<think>"}), pick({"", "plan a<b", "r"}), pick({"</think>", ""}),
                                  pick({"", "Hi.", "x </think> <", "\n"})}) {
    parts.push_back(part);
  }
  for (int block = count(0, 2); block > 0; --block) {
    parts.push_back(pick({"\n\n", "", "\n"}));
    parts.push_back("<｜DSML｜tool_calls>");
    for (int invoke = count(1, 2); invoke > 0; --invoke) {
      parts.push_back("\n");
      parts.push_back("<｜DSML｜invoke name=\"" + pick({"f", "get_weather"}) + "\">");
      for (int parameter = count(0, 2); parameter > 0; --parameter) {
        parts.push_back("\n");
        parts.push_back("<｜DSML｜parameter name=\"" + pick({"k", "q"}) + "\" string=\"" + pick({"true", "false"}) +
                        "\">");
        parts.push_back(pick({"v", "[1, 2]", "{bad", "a<b", ""}));
        parts.push_back("</｜DSML｜parameter>");
      }
      parts.push_back("\n");
      parts.push_back("</｜DSML｜invoke>");
    }
    parts.push_back("\n");
    parts.push_back("</｜DSML｜tool_calls>");
  }
  parts.push_back(pick({"", "\n", " tail", "<｜end▁of▁sentence｜>"}));
  return parts;
}

// Deletes, repeats or inserts parts, and cuts the end off: truncated and malformed generations.
std::string break_generation(std::vector<std::string> parts, std::mt19937& random) {
  const std::vector<std::string> strays = {"<", "</", "\"", ">", "x", "\n\n", "<｜DS", "<｜DSML｜foo>",
                                           "</think>", "<｜end▁of▁sentence｜>", "<｜DSML｜tool_calls>"};
  for (int change = std::uniform_int_distribution<int>(0, 2)(random); change > 0 && !parts.empty(); --change) {
    const size_t at = std::uniform_int_distribution<size_t>(0, parts.size() - 1)(random);
    switch (std::uniform_int_distribution<int>(0, 2)(random)) {
      case 0: parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at)); break;
      case 1: parts.insert(parts.begin() + static_cast<std::ptrdiff_t>(at), parts[at]); break;
      default:
        parts.insert(parts.begin() + static_cast<std::ptrdiff_t>(at),
                     strays[std::uniform_int_distribution<size_t>(0, strays.size() - 1)(random)]);
    }
  }
  std::string text;
  for (const std::string& part : parts) text += part;
  if (std::uniform_int_distribution<int>(0, 3)(random) == 0) {
    text.resize(std::uniform_int_distribution<size_t>(0, text.size())(random));
  }
  return text;
}

// Whatever the generation, well formed or broken, the result must not depend on how it is
// split into pieces.
TEST(OutputParser, RandomGenerationsAreIndependentOfSplitPoints) {
  std::mt19937 random(2718);
  for (int trial = 0; trial < 120; ++trial) {
    const std::string text = break_generation(random_generation(random), random);
    SCOPED_TRACE(text);
    expect_split_invariant(trial % 2 == 0 ? ThinkingMode::Thinking : ThinkingMode::Chat, text);
  }
}

// Without DSML and EOS, only the reasoning delimiters are markup: the input is the reasoning,
// the delimiters and the content put back together.
TEST(OutputParser, RandomTextWithoutToolCallsIsReassembledExactly) {
  const std::vector<std::string> fragments = {"<think>", "</think>", "<", "</", "</th", "<thi", "\n", "\n\n",
                                              " ", "x", "中", ">", "｜", "<｜DS", "\n\n<｜DSML｜tool"};
  std::mt19937 random(31415);
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const int count = std::uniform_int_distribution<int>(0, 16)(random);
    for (int i = 0; i < count; ++i) {
      text += fragments[std::uniform_int_distribution<size_t>(0, fragments.size() - 1)(random)];
    }
    for (ThinkingMode mode : {ThinkingMode::Thinking, ThinkingMode::Chat}) {
      const bool opens = text.starts_with("<think>");
      const std::string body = opens ? text.substr(std::string_view("<think>").size()) : text;
      const Parsed parsed = parse_whole(mode, text);
      ASSERT_TRUE(parsed.calls.empty());
      if (mode == ThinkingMode::Chat && !opens) {
        ASSERT_EQ(parsed.reasoning, "");
        ASSERT_EQ(parsed.content, text);
      } else if (body.find("</think>") == std::string::npos) {
        ASSERT_EQ(parsed.reasoning, body);
        ASSERT_EQ(parsed.content, "");
      } else {
        ASSERT_EQ(parsed.reasoning + "</think>" + parsed.content, body) << text;
        ASSERT_EQ(parsed.reasoning.find("</think>"), std::string::npos) << text;
      }
    }
  }
}

TEST(OutputParser, WellFormedBlocksNeverLeakMarkup) {
  for (const ExpectedTurn& expected : expected_turns()) {
    const GeneratedTurn turn = golden_turn(expected);
    const Parsed parsed = parse_whole(turn.mode, turn.generation);
    EXPECT_EQ(parsed.content.find("｜"), std::string::npos);
    EXPECT_EQ(parsed.reasoning.find("｜"), std::string::npos);
  }
}

}  // namespace
}  // namespace lightseek

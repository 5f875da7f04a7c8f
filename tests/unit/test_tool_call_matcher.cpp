// Strict tool calls and tool_choice by constrained decoding: the DSML tool-call matcher against
// blocks the V4 encoder renders (accepted) and broken ones (refused), the compiled tool grammar's
// errors, and the tool-call mask against trying every token of the built-in model's V4 vocabulary.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/builtin_model.h"
#include "runtime/output_constraint.h"
#include "text/chat_encoder.h"
#include "text/output_parser.h"
#include "text/tool_call_grammar.h"
#include "text/tool_call_mask.h"
#include "text/tool_call_matcher.h"
#include "text/tokenizer.h"

namespace lightseek {
namespace {

using Json = nlohmann::ordered_json;
using Start = ToolCallMatcher::Start;

const std::string kDsml = "｜DSML｜";

const Json kWeatherSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "location": {"type": "string"},
    "unit": {"enum": ["celsius", "fahrenheit"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 10},
    "note": {"type": "string", "maxLength": 5},
    "tags": {"type": "array", "items": {"type": "string"}},
    "when": {"anyOf": [{"type": "string"}, {"type": "null"}]}
  },
  "required": ["location", "unit"],
  "additionalProperties": false})");

const Json kFreeSchema = Json::parse(R"({"type": "object", "properties": {"q": {"type": "string"}}})");

// weather (strict), search (not strict).
std::shared_ptr<const ToolCallGrammar> grammar(ToolCallGrammar::Options options = {}) {
  return ToolCallGrammar::compile({{"get_weather", &kWeatherSchema, "tools[0].function.parameters"},
                                   {"search", nullptr, ""}},
                                  options);
}

// The block the encoder writes for an assistant message with these calls (content first), in
// matcher bytes: the ｜DSML｜ token as kDsmlByte.
std::string rendered(const std::vector<ToolCall>& calls, const std::string& content = "") {
  ChatMessage user;
  user.role = "user";
  user.content = "hi";
  ChatMessage assistant;
  assistant.role = "assistant";
  assistant.content = content;
  assistant.tool_calls = calls;
  const std::string prompt = encode_chat({user, assistant}, EncodeOptions{});
  const std::string begin = "<｜Assistant｜></think>";
  const std::string end = "</" + kDsml + "tool_calls>";
  const size_t from = prompt.find(begin) + begin.size();
  const size_t to = prompt.find(end) + end.size();
  std::string reply = prompt.substr(from, to - from);
  for (size_t at; (at = reply.find(kDsml)) != std::string::npos;) reply.replace(at, kDsml.size(), 1, static_cast<char>(kDsmlByte));
  return reply;
}

ToolCall call(const std::string& name, const std::string& arguments) { return ToolCall{"", name, Json::parse(arguments)}; }

// Feeds `text` byte by byte; how many bytes were accepted.
size_t accepted(ToolCallMatcher& matcher, const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!matcher.advance(static_cast<uint8_t>(text[i]))) return i;
  }
  return text.size();
}

std::string with_dsml(std::string text) {
  for (size_t at; (at = text.find("@")) != std::string::npos;) text.replace(at, 1, 1, static_cast<char>(kDsmlByte));
  return text;
}

TEST(ToolCallMatcher, AcceptsWhatTheEncoderWrites) {
  const auto tools = grammar();
  const std::vector<std::vector<ToolCall>> replies = {
      {call("get_weather", R"({"location": "Paris \"centre\" <b> </x> \\ \n", "unit": "celsius"})")},
      {call("get_weather", R"({"unit": "fahrenheit", "days": 3, "location": "Oslo", "tags": ["a", "b<"],
                               "when": null, "note": "héllo"})"),
       call("search", R"({"anything": [1, {"x": "y"}], "q": "z"})")},
      {call("get_weather", R"({"location": "", "unit": "celsius", "when": "today"})")},
  };
  for (const auto& calls : replies) {
    const std::string block = rendered(calls);
    SCOPED_TRACE(block);
    ToolCallMatcher required(*tools, Start::Block);
    ASSERT_EQ(accepted(required, block), block.size());
    EXPECT_TRUE(required.finished());
    EXPECT_TRUE(required.can_end());
    EXPECT_FALSE(required.advance(static_cast<uint8_t>('\n')));  // nothing after the block

    const std::string with_content = rendered(calls, "Let me look <that> up.");
    ToolCallMatcher automatic(*tools, Start::Content);
    ASSERT_EQ(accepted(automatic, with_content), with_content.size());
    EXPECT_TRUE(automatic.finished());
  }
}

TEST(ToolCallMatcher, EndOfSentenceOnlyBeforeOrAfterTheBlock) {
  const auto tools = grammar();
  const std::string block = rendered({call("get_weather", R"({"location": "x", "unit": "celsius"})")}, "Sure.");
  ToolCallMatcher matcher(*tools, Start::Content);
  EXPECT_TRUE(matcher.can_end());  // no tool call is due
  for (size_t i = 0; i < block.size(); ++i) {
    ASSERT_TRUE(matcher.advance(static_cast<uint8_t>(block[i]))) << i;
    const bool in_block = block.substr(0, i + 1).find(static_cast<char>(kDsmlByte)) != std::string::npos;
    if (i + 1 < block.size()) {
      EXPECT_EQ(matcher.can_end(), !in_block) << block.substr(0, i + 1);
    }
  }
  EXPECT_TRUE(matcher.can_end());
  const auto must_call = grammar({.must_call = true, .parallel_calls = true});
  ToolCallMatcher required(*must_call, Start::Content);
  EXPECT_FALSE(required.can_end());  // the reply must be the block
  EXPECT_EQ(accepted(required, "Sure."), 0u);
}

struct Broken {
  const char* why;
  const char* text;  // @ is the ｜DSML｜ token; ^ marks the first byte refused
};

TEST(ToolCallMatcher, RefusesWhatTheToolsDoNotAllow) {
  const auto tools = grammar();
  const std::string open = "<@tool_calls>\n<@invoke name=\"get_weather\">\n";
  const std::string location = "<@parameter name=\"location\" string=\"true\">x</@parameter>\n";
  const std::string unit = "<@parameter name=\"unit\" string=\"true\">celsius</@parameter>\n";
  const std::string weather = "<@tool_calls>\n<@invoke name=\"get_weather\">\n<@parameter name=";
  const Broken cases[] = {
      {"unknown tool", "<@tool_calls>\n<@invoke name=\"get_we^ther\">"},
      {"tool name cut short", "<@tool_calls>\n<@invoke name=\"get^\">"},
      {"unknown parameter", "\"^city\""},
      {"missing required", "\"location\" string=\"true\">x</@parameter>\n<^/@invoke>"},
      {"string flag of an enum of strings", "\"unit\" string=\"^false\">"},
      {"string flag of an integer", "\"days\" string=\"^true\">"},
      {"value outside the enum", "\"unit\" string=\"true\">^kelvin"},
      {"integer above the maximum", "\"days\" string=\"false\">1^1"},
      {"JSON value cut short", "\"tags\" string=\"false\">[\"a\"^</@parameter>"},
      {"raw string too long", "\"note\" string=\"true\">abcde^f"},
      {"an empty block", "<@tool_calls>\n<^/@tool_calls>"},
      {"three newlines", "<@tool_calls>\n\n^\n"},
      {"the ｜DSML｜ token inside a value", "<@tool_calls>\n<@invoke name=\"search\">\n<@parameter name=\"q\" "
                                           "string=\"true\">a^@"},
  };
  for (const Broken& broken : cases) {
    std::string text = with_dsml(broken.text);
    if (text[0] == '"') text = with_dsml(weather) + text;
    const size_t refused = text.find('^');
    text.erase(refused, 1);
    ToolCallMatcher matcher(*tools, Start::Block);
    EXPECT_EQ(accepted(matcher, text), refused) << broken.why;
  }
  // A parameter written twice.
  ToolCallMatcher twice(*tools, Start::Block);
  const std::string repeated = with_dsml(open + location + unit + "<@parameter name=\"unit\"");
  EXPECT_EQ(accepted(twice, repeated), repeated.size() - 5) << "duplicate";
  // Without parallel calls, one invoke.
  const auto one_call = grammar({.must_call = true, .parallel_calls = false});
  ToolCallMatcher single(*one_call, Start::Block);
  const std::string second = with_dsml(open + location + unit + "</@invoke>\n<@invoke");
  EXPECT_EQ(accepted(single, second), second.size() - 7) << "second invoke";
  ToolCallMatcher parallel(*tools, Start::Block);
  EXPECT_EQ(accepted(parallel, second), second.size()) << "second invoke allowed";
  // "｜DSML｜" spelled by ordinary bytes: the parser would read it as markup.
  ToolCallMatcher content(*tools, Start::Content);
  EXPECT_EQ(accepted(content, "see <" + kDsml), 5 + kDsml.size() - 1);
  // A free tool's arguments are free, its name is not.
  ToolCallMatcher free(*tools, Start::Block);
  const std::string anything = with_dsml("<@tool_calls>\n<@invoke name=\"search\">\n<@parameter name=\"x y\" string=\"false\">"
                                         "not JSON</b></@parameter>\n</@invoke>\n</@tool_calls>");
  EXPECT_EQ(accepted(free, anything), anything.size());
}

TEST(ToolCallGrammar, StrictSchemasTheDecoderCannotEnforceAreErrorsNamingThePath) {
  const Json format = Json::parse(R"({"type": "object", "properties": {"d": {"type": "string", "format": "date"}}})");
  try {
    ToolCallGrammar::compile({{"f", &format, "tools[2].function.parameters"}}, {});
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), "tools[2].function.parameters.properties.d: 'format' is not supported");
  }
  const Json array = Json::parse(R"({"type": "array"})");
  EXPECT_THROW(ToolCallGrammar::compile({{"f", &array, "tools[0].input_schema"}}, {}), Error);
  const Json quoted = Json::parse(R"({"type": "object", "properties": {"a\"b": {}}, "required": ["a\"b"]})");
  EXPECT_THROW(ToolCallGrammar::compile({{"f", &quoted, "p"}}, {}), Error);
  // The same schema is fine for a tool that is not strict.
  EXPECT_NO_THROW(ToolCallGrammar::compile({{"f", nullptr, ""}}, {}));
}

// The built-in model's tokenizer: DeepSeek's vocabulary with V4's special tokens, ｜DSML｜ among them.
const Tokenizer& v4_tokenizer() {
  static const Tokenizer tokenizer = Tokenizer::load_from_model_dir(ensure_builtin_model());
  return tokenizer;
}

const std::shared_ptr<const ToolCallVocabulary>& v4_vocabulary() {
  static const auto vocabulary = ToolCallVocabulary::build(v4_tokenizer(), TokenTrie::build(v4_tokenizer()));
  return vocabulary;
}

// The definition: a token is allowed when the matcher may read it and accepts all its bytes.
TokenBitset brute_force_tool_mask(const ToolCallVocabulary& vocabulary, const ToolCallMatcher& matcher) {
  TokenBitset allowed((static_cast<size_t>(vocabulary.vocab_size()) + 63) / 64, 0);
  ToolCallMatcher probe(matcher);
  for (int32_t id = 0; id < vocabulary.vocab_size(); ++id) {
    if (!vocabulary.readable(matcher, id)) continue;
    probe = matcher;
    if (probe.advance(vocabulary.bytes(id))) allowed[static_cast<size_t>(id) / 64] |= uint64_t{1} << (id % 64);
  }
  return allowed;
}

TEST(ToolCallMask, EqualsTryingEveryTokenInManyStates) {
  ASSERT_TRUE(v4_vocabulary()->trie()->dsml_id());
  const auto tools = grammar();
  const std::string reply = rendered(
      {call("get_weather", R"({"location": "Par\"is <b>", "unit": "celsius", "days": 7, "tags": ["x<y", "zé"],
                              "note": "ab", "when": null})"),
       call("search", R"({"q": "a</b", "n": [1]})")},
      "Hi <there>");
  ToolCallMatcher matcher(*tools, Start::Content);
  ToolCallMasker masker(v4_vocabulary());
  int states = 0;
  for (size_t length = 0; length <= reply.size(); ++length) {
    if (length > 0) {
      ASSERT_TRUE(matcher.advance(static_cast<uint8_t>(reply[length - 1]))) << length;
    }
    // Every byte near markup and values' edges, every fourth elsewhere.
    const bool edge = length == 0 || std::string("<>\"\n").find(reply[length - 1]) != std::string::npos ||
                      static_cast<uint8_t>(reply[length - 1]) == kDsmlByte;
    if (!edge && length % 4 != 0) continue;
    const TokenBitset expected = brute_force_tool_mask(*v4_vocabulary(), matcher);
    EXPECT_EQ(masker.allowed(matcher), expected) << "after " << length << " bytes";
    EXPECT_EQ(masker.allowed(matcher), expected) << "(cached) after " << length << " bytes";
    ++states;
  }
  EXPECT_GT(states, 80);
}

TEST(ToolCallConstraint, RequiredToolChoiceMasksEverythingButTheBlock) {
  const Tokenizer& tokenizer = v4_tokenizer();
  const int32_t eos = *tokenizer.token_id("<｜end▁of▁sentence｜>");
  OutputConstraint constraint(OutputConstraint::Rules{nullptr, grammar({.must_call = true, .parallel_calls = true})},
                              v4_vocabulary(), eos, std::nullopt);
  std::vector<float> logits(static_cast<size_t>(tokenizer.vocab_size()) + 7, 0.0f);
  constraint.mask(logits);
  std::vector<int32_t> allowed;
  for (size_t id = 0; id < logits.size(); ++id) {
    if (!std::isinf(logits[id])) allowed.push_back(static_cast<int32_t>(id));
  }
  ASSERT_FALSE(allowed.empty());
  for (int32_t id : allowed) {
    const std::string bytes = tokenizer.token_bytes(id);
    EXPECT_TRUE(bytes[0] == '<' || bytes[0] == '\n') << id << " " << bytes;
  }
  EXPECT_THROW(constraint.accept(eos), Error);
  EXPECT_THROW(constraint.accept(tokenizer.encode("Sure")[0]), Error);
}

}  // namespace
}  // namespace lightseek

namespace lightseek {
namespace {

// Uniform random walks through the mask: never a state where every token is banned, and every
// finished reply is tool calls the output parser reads.
TEST(ToolCallConstraint, RandomWalksNeverDeadEnd) {
  const Tokenizer& tokenizer = v4_tokenizer();
  const int32_t eos = *tokenizer.token_id("<｜end▁of▁sentence｜>");
  const Json weather = Json::parse(R"({"type": "object", "properties": {"city": {"type": "string", "maxLength": 6},
      "unit": {"enum": ["celsius", "fahrenheit"]}, "days": {"type": "integer", "minimum": 1, "maximum": 7},
      "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 2}},
      "required": ["city", "unit"], "additionalProperties": false})");
  const auto tools = ToolCallGrammar::compile({{"get_weather", &weather, "p"}}, {.must_call = true, .parallel_calls = false});
  int finished = 0;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    OutputConstraint constraint(OutputConstraint::Rules{nullptr, tools}, v4_vocabulary(), eos, std::nullopt);
    std::mt19937 random(seed);
    std::string text;
    for (int step = 0; step < 400 && !constraint.ended(); ++step) {
      std::vector<float> logits(static_cast<size_t>(tokenizer.vocab_size()), 0.0f);
      constraint.mask(logits);
      std::vector<int32_t> allowed;
      for (size_t id = 0; id < logits.size(); ++id) {
        if (!std::isinf(logits[id])) allowed.push_back(static_cast<int32_t>(id));
      }
      ASSERT_FALSE(allowed.empty()) << "seed " << seed << " dead after: " << text;
      const int32_t token = allowed[random() % allowed.size()];
      constraint.accept(token);
      if (token != eos) text += tokenizer.token_bytes(token);
    }
    if (!constraint.ended()) continue;  // still writing after 400 tokens
    OutputParser parser(ThinkingMode::Chat);
    ParsedDelta parsed = parser.push(text);
    const ParsedDelta rest = parser.finish();
    parsed.content += rest.content;
    parsed.tool_calls.insert(parsed.tool_calls.end(), rest.tool_calls.begin(), rest.tool_calls.end());
    EXPECT_EQ(parsed.content, "") << text;
    ASSERT_EQ(parsed.tool_calls.size(), 1u) << text;
    const Json& arguments = parsed.tool_calls[0].arguments;
    EXPECT_TRUE(arguments.contains("city") && arguments["city"].is_string()) << text;
    EXPECT_TRUE(arguments.contains("unit") && (arguments["unit"] == "celsius" || arguments["unit"] == "fahrenheit")) << text;
    if (arguments.contains("days")) {
      EXPECT_TRUE(arguments["days"].is_number_integer() && arguments["days"] >= 1 && arguments["days"] <= 7) << text;
    }
    if (arguments.contains("tags")) {
      EXPECT_TRUE(arguments["tags"].is_array() && arguments["tags"].size() <= 2) << text;
    }
    ++finished;
  }
  EXPECT_GT(finished, 20);
}

}  // namespace
}  // namespace lightseek

// Strict tool calls and tool_choice through the server on the built-in model (random weights,
// so only constrained decoding can make its tool calls valid): under several seeds with real
// sampling every reply is tool calls whose arguments satisfy the schema, checked by hand here;
// requests without strict tools are left alone; schemas that cannot be enforced are 400s.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/openai_protocol.h"
#include "server_http_support.h"

namespace lightseek::server {
namespace {

using nlohmann::ordered_json;
using testing::kModelName;
using testing::ModelTestServer;

// Bounded strings and numbers, so that a random model's values end.
const ordered_json kWeather = ordered_json::parse(R"({
  "type": "object",
  "properties": {"city": {"type": "string", "maxLength": 6},
                 "unit": {"enum": ["celsius", "fahrenheit"]},
                 "days": {"type": "integer", "minimum": 1, "maximum": 7},
                 "hourly": {"type": "boolean"},
                 "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 2}},
  "required": ["city", "unit"], "additionalProperties": false})");

const ordered_json kTime = ordered_json::parse(R"({
  "type": "object", "properties": {"zone": {"enum": ["UTC", "CET"]}}, "required": ["zone"],
  "additionalProperties": false})");

size_t code_points(const std::string& text) {
  size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

// The checks the schemas above make, written out independently of lightseek's matchers.
::testing::AssertionResult valid_call(const std::string& name, const ordered_json& arguments) {
  if (!arguments.is_object()) return ::testing::AssertionFailure() << "arguments not an object: " << arguments.dump();
  if (name == "get_time") {
    if (arguments.size() == 1 && (arguments.value("zone", "") == "UTC" || arguments.value("zone", "") == "CET")) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "get_time: " << arguments.dump();
  }
  if (name != "get_weather") return ::testing::AssertionFailure() << "unknown tool " << name;
  if (!arguments.contains("city") || !arguments.contains("unit")) {
    return ::testing::AssertionFailure() << "required missing: " << arguments.dump();
  }
  for (const auto& [key, value] : arguments.items()) {
    bool fits = false;
    if (key == "city") fits = value.is_string() && code_points(value.get<std::string>()) <= 6;
    if (key == "unit") fits = value == "celsius" || value == "fahrenheit";
    if (key == "days") fits = value.is_number_integer() && value.get<int64_t>() >= 1 && value.get<int64_t>() <= 7;
    if (key == "hourly") fits = value.is_boolean();
    if (key == "tags") {
      fits = value.is_array() && value.size() <= 2;
      for (const ordered_json& tag : value) fits = fits && tag.is_string() && code_points(tag.get<std::string>()) <= 3;
    }
    if (!fits) return ::testing::AssertionFailure() << "'" << key << "' does not fit: " << arguments.dump();
  }
  return ::testing::AssertionSuccess();
}

ordered_json function(const std::string& name, const ordered_json& parameters, bool strict) {
  return {{"type", "function"},
          {"function", {{"name", name}, {"description", "A tool."}, {"parameters", parameters}, {"strict", strict}}}};
}

ordered_json tools_request(int seed, const ordered_json& tool_choice, bool parallel, bool thinking) {
  ordered_json request = {{"model", kModelName},
                          {"messages", {{{"role", "user"}, {"content", "Weather in Paris?"}}}},
                          {"tools", {function("get_weather", kWeather, true), function("get_time", kTime, true)}},
                          {"tool_choice", tool_choice},
                          {"parallel_tool_calls", parallel},
                          {"seed", seed},
                          {"temperature", 1},
                          {"max_tokens", thinking ? 150 : 400},
                          {"thinking", {{"type", thinking ? "enabled" : "disabled"}}}};
  return request;
}

void expect_valid_tool_calls(const ordered_json& body, const std::string& only_name, bool single) {
  const ordered_json& choice = body["choices"][0];
  ASSERT_EQ(choice["finish_reason"], "tool_calls") << body.dump();
  const ordered_json& calls = choice["message"]["tool_calls"];
  ASSERT_TRUE(calls.is_array() && !calls.empty()) << body.dump();
  if (single) {
    EXPECT_EQ(calls.size(), 1u) << body.dump();
  }
  for (const ordered_json& call : calls) {
    const std::string name = call["function"]["name"];
    if (!only_name.empty()) {
      EXPECT_EQ(name, only_name);
    }
    const ordered_json arguments = ordered_json::parse(call["function"]["arguments"].get<std::string>());
    EXPECT_TRUE(valid_call(name, arguments)) << body.dump();
  }
  const ordered_json& content = choice["message"]["content"];
  EXPECT_TRUE(content.is_null() || content == "") << body.dump();
}

TEST(ServerToolCalls, RequiredStrictCallsMatchTheSchemaUnderEverySeed) {
  ModelTestServer server(false, {}, Numerics::Fast);
  for (int seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_valid_tool_calls(server.post("/v1/chat/completions", tools_request(seed, "required", false, false)), "",
                            /*single=*/true);
  }
}

TEST(ServerToolCalls, NamedToolChoiceCallsThatToolWithParallelCalls) {
  ModelTestServer server(false, {}, Numerics::Fast);
  const ordered_json named = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  for (int seed = 5; seed <= 7; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_valid_tool_calls(server.post("/v1/chat/completions", tools_request(seed, named, true, false)), "get_weather",
                            /*single=*/false);
  }
}

// In thinking mode the reasoning is free; the block follows it (or the budget runs out first).
TEST(ServerToolCalls, ThinkingModeCallsAfterTheReasoning) {
  ModelTestServer server(false, {}, Numerics::Fast);
  const ordered_json body = server.post("/v1/chat/completions", tools_request(3, "required", false, true));
  const ordered_json& choice = body["choices"][0];
  if (choice["finish_reason"] == "length") {
    EXPECT_FALSE(choice["message"].contains("tool_calls") && !choice["message"]["tool_calls"].empty()) << body.dump();
  } else {
    expect_valid_tool_calls(body, "", true);
  }
}

TEST(ServerToolCalls, AnthropicStrictToolWithToolChoiceAny) {
  ModelTestServer server(false, {}, Numerics::Fast);
  for (int seed = 1; seed <= 2; ++seed) {
    const ordered_json body = server.post(
        "/v1/messages",
        {{"model", kModelName},
         {"max_tokens", 400},
         {"temperature", 1},
         {"metadata", {{"user_id", "t"}}},
         {"messages", {{{"role", "user"}, {"content", "Weather?"}}}},
         {"tools", {{{"name", "get_weather"}, {"input_schema", kWeather}, {"strict", true}}}},
         {"tool_choice", {{"type", "any"}, {"disable_parallel_tool_use", true}}}});
    ASSERT_EQ(body["stop_reason"], "tool_use") << body.dump();
    int uses = 0;
    for (const ordered_json& block : body["content"]) {
      if (block["type"] != "tool_use") continue;
      ++uses;
      EXPECT_EQ(block["name"], "get_weather");
      EXPECT_TRUE(valid_call("get_weather", block["input"])) << body.dump();
    }
    EXPECT_EQ(uses, 1) << body.dump();
  }
}

// Without strict tools and with tool_choice auto nothing is constrained: the random model
// writes noise as content, as it does without tools.
TEST(ServerToolCalls, RequestsWithoutStrictToolsAreNotConstrained) {
  ModelTestServer server(false, {}, Numerics::Fast);
  ordered_json request = tools_request(2, "auto", true, false);
  request["tools"] = {function("get_weather", kWeather, false)};
  request["max_tokens"] = 30;
  const ordered_json body = server.post("/v1/chat/completions", request);
  const ordered_json& choice = body["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "length") << body.dump();
  EXPECT_FALSE(choice["message"]["content"].get<std::string>().empty()) << body.dump();

  const auto parsed = openai::parse_chat_request(request, RequestLimits{});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().tool_grammar, nullptr);
  request["tool_choice"] = "none";
  request["tools"] = {function("get_weather", kWeather, true)};
  EXPECT_EQ(openai::parse_chat_request(request, RequestLimits{}).value().tool_grammar, nullptr);
  request["tool_choice"] = "auto";
  EXPECT_NE(openai::parse_chat_request(request, RequestLimits{}).value().tool_grammar, nullptr);
}

TEST(ServerToolCalls, StrictSchemasThatCannotBeEnforcedAre400sNamingThePath) {
  ModelTestServer server(false, {}, Numerics::Fast);
  const ordered_json schema = ordered_json::parse(R"({"type": "object", "properties": {"d": {"type": "string",
      "format": "date"}}})");
  ordered_json request = tools_request(1, "auto", true, false);
  request["tools"] = {function("ok", kTime, false), function("dated", schema, true)};
  const ordered_json openai = server.post("/v1/chat/completions", request, 400);
  EXPECT_EQ(openai["error"]["param"], "tools[1].function.parameters.properties.d") << openai.dump();
  EXPECT_NE(openai["error"]["message"].get<std::string>().find("'format' is not supported"), std::string::npos);
  const ordered_json anthropic =
      server.post("/v1/messages", {{"model", kModelName},
                                   {"max_tokens", 10},
                                   {"messages", {{{"role", "user"}, {"content", "x"}}}},
                                   {"tools", {{{"name", "f"}, {"input_schema", {{"type", "array"}}}, {"strict", true}}}}},
                  400);
  EXPECT_NE(anthropic["error"]["message"].get<std::string>().find("tools[0].input_schema"), std::string::npos)
      << anthropic.dump();
}

}  // namespace
}  // namespace lightseek::server

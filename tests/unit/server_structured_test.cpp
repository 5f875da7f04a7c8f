// Structured output through the server on the built-in model (random weights, so only the
// constrained decoding can make the answers valid): OpenAI response_format with and without
// thinking, Ollama format, and the 400 for a schema that cannot be enforced.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server_http_support.h"

namespace lightseek::server {
namespace {

using nlohmann::ordered_json;
using testing::kModelName;
using testing::ModelTestServer;

const ordered_json kPoint = ordered_json::parse(R"({
  "type": "object",
  "properties": {"x": {"type": "integer", "minimum": -5, "maximum": 5},
                 "label": {"type": "string", "maxLength": 4},
                 "ok": {"type": "boolean"}},
  "required": ["x", "ok"], "additionalProperties": false})");

// The checks the schema above makes, written out independently of lightseek's matcher.
::testing::AssertionResult is_point(const std::string& text) {
  ordered_json value;
  try {
    value = ordered_json::parse(text);
  } catch (const std::exception&) {
    return ::testing::AssertionFailure() << "not JSON: " << text;
  }
  if (!value.is_object() || !value.contains("x") || !value.contains("ok")) return ::testing::AssertionFailure() << text;
  for (const auto& [key, item] : value.items()) {
    const bool fits = (key == "x" && item.is_number_integer() && item.get<int64_t>() >= -5 && item.get<int64_t>() <= 5) ||
                      (key == "label" && item.is_string()) || (key == "ok" && item.is_boolean());
    if (!fits) return ::testing::AssertionFailure() << "'" << key << "' does not fit: " << text;
  }
  if (value.contains("label")) {
    // maxLength counts code points.
    const std::string label = value["label"];
    size_t code_points = 0;
    for (unsigned char c : label) code_points += (c & 0xC0) != 0x80;
    if (code_points > 4) return ::testing::AssertionFailure() << "label too long: " << text;
  }
  return ::testing::AssertionSuccess();
}

ordered_json point_request(int seed, bool thinking, int max_tokens) {
  return {{"model", kModelName},
          {"messages", {{{"role", "user"}, {"content", "A point, please."}}}},
          {"seed", seed},
          {"temperature", 1},
          {"max_tokens", max_tokens},
          {"thinking", {{"type", thinking ? "enabled" : "disabled"}}},
          {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "point"}, {"schema", kPoint}}}}}};
}

TEST(ServerStructuredOutput, OpenAIAnswersMatchTheSchemaUnderEverySeed) {
  ModelTestServer server(false, {}, Numerics::Fast);
  for (int seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const ordered_json body = server.post("/v1/chat/completions", point_request(seed, false, 60));
    const ordered_json& choice = body["choices"][0];
    ASSERT_EQ(choice["finish_reason"], "stop") << body.dump();
    EXPECT_TRUE(is_point(choice["message"]["content"]));
  }
}

// The reasoning is free, but the reply may not end inside it: the random model's reasoning runs
// to the budget, and no unconstrained answer is produced.
TEST(ServerStructuredOutput, InThinkingModeTheReplyCannotEndBeforeItsAnswer) {
  ModelTestServer server(false, {}, Numerics::Fast);
  const ordered_json body = server.post("/v1/chat/completions", point_request(3, true, 40));
  const ordered_json& choice = body["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "length") << body.dump();
  const ordered_json& content = choice["message"]["content"];
  EXPECT_TRUE(content.is_null() || content == "" || is_point(content)) << body.dump();
}

TEST(ServerStructuredOutput, OllamaFormatSchemaAndJson) {
  ModelTestServer server(false, {}, Numerics::Fast);
  for (int seed = 1; seed <= 3; ++seed) {
    const ordered_json body =
        server.post("/api/chat", {{"model", kModelName},
                                  {"messages", {{{"role", "user"}, {"content", "A point."}}}},
                                  {"stream", false},
                                  {"format", kPoint},
                                  {"options", {{"seed", seed}, {"num_predict", 60}}}});
    ASSERT_EQ(body["done_reason"], "stop") << body.dump();
    EXPECT_TRUE(is_point(body["message"]["content"]));
  }
  const ordered_json any = server.post("/api/generate", {{"model", kModelName},
                                                         {"prompt", "Some JSON."},
                                                         {"stream", false},
                                                         {"format", "json"},
                                                         {"options", {{"seed", 2}, {"num_predict", 300}}}});
  if (any["done_reason"] == "stop") {
    const ordered_json value = ordered_json::parse(any["response"].get<std::string>());
    EXPECT_TRUE(value.is_object()) << any.dump();
  } else {
    EXPECT_EQ(any["done_reason"], "length") << any.dump();
  }
}

TEST(ServerStructuredOutput, SchemasThatCannotBeEnforcedAre400sNamingTheKeyword) {
  ModelTestServer server(false, {}, Numerics::Fast);
  const ordered_json schema = ordered_json::parse(R"({"type": "string", "not": {"type": "integer"}})");
  const ordered_json openai = server.post(
      "/v1/chat/completions",
      {{"model", kModelName},
       {"messages", {{{"role", "user"}, {"content", "x"}}}},
       {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", schema}}}}}},
      400);
  EXPECT_NE(openai["error"]["message"].get<std::string>().find("not"), std::string::npos) << openai.dump();
  const ordered_json ollama =
      server.post("/api/chat",
                  {{"model", kModelName},
                   {"messages", {{{"role", "user"}, {"content", "x"}}}},
                   {"format", {{"type", "object"}, {"properties", {{"a", {{"type", "string"}, {"format", "email"}}}}}}}},
                  400);
  EXPECT_NE(ollama["error"].get<std::string>().find("format"), std::string::npos) << ollama.dump();
}

}  // namespace
}  // namespace lightseek::server

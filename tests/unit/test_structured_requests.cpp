// Structured output in the request parsers: response_format and Ollama's format are compiled
// into the grammar the sampler enforces, and a schema with a keyword the decoder would not
// enforce is a 400 naming the keyword and where it is.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/ollama_protocol.h"
#include "server/openai_protocol.h"
#include "text/json_matcher.h"

namespace lightseek::server {
namespace {

using ::testing::HasSubstr;
using nlohmann::ordered_json;

ordered_json openai_chat_body(const ordered_json& response_format) {
  return {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"response_format", response_format}};
}

ordered_json ollama_chat(const ordered_json& format) {
  return {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"format", format}};
}

bool request_accepts(const JsonSchemaGrammar& grammar, const std::string& text) {
  JsonMatcher matcher(grammar);
  return matcher.advance(text) && matcher.can_finish();
}

TEST(StructuredRequests, OpenAIResponseFormatsBecomeGrammars) {
  const auto text = openai::parse_chat_request(openai_chat_body({{"type", "text"}}));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->output_grammar, nullptr);
  const auto object = openai::parse_chat_request(openai_chat_body({{"type", "json_object"}}));
  ASSERT_TRUE(object.ok());
  ASSERT_NE(object->output_grammar, nullptr);
  EXPECT_TRUE(request_accepts(*object->output_grammar, R"({"a":[1]})"));
  EXPECT_FALSE(request_accepts(*object->output_grammar, "[1]"));
  const auto schema = openai::parse_chat_request(openai_chat_body(ordered_json::parse(R"({"type": "json_schema",
      "json_schema": {"name": "n", "strict": true, "schema": {"type": "object", "required": ["n"],
      "additionalProperties": false, "properties": {"n": {"type": "integer"}}}}})")));
  ASSERT_TRUE(schema.ok()) << schema.error().message;
  EXPECT_TRUE(request_accepts(*schema->output_grammar, R"({"n":3})"));
  EXPECT_FALSE(request_accepts(*schema->output_grammar, R"({"n":"3"})"));
  EXPECT_FALSE(openai::parse_chat_request(ordered_json::object()).ok());
  EXPECT_EQ(openai::parse_chat_request({{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}})
                ->output_grammar,
            nullptr);
}

TEST(StructuredRequests, UnsupportedSchemasAreRefusedWithTheirPath) {
  const auto parsed = openai::parse_chat_request(openai_chat_body(ordered_json::parse(R"({"type": "json_schema",
      "json_schema": {"name": "n", "schema": {"type": "object", "properties": {"x": {"type": "string",
      "format": "date"}}}}})")));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().http_status, 400);
  EXPECT_EQ(parsed.error().param, "response_format.json_schema.schema");
  EXPECT_THAT(parsed.error().message,
              HasSubstr("response_format.json_schema.schema.properties.x: 'format' is not supported"));
  const auto ollama = ollama::parse_chat_request(ollama_chat(ordered_json::parse(R"({"type": "string", "format": "email"})")));
  ASSERT_FALSE(ollama.ok());
  EXPECT_EQ(ollama.error().http_status, 400);
  EXPECT_THAT(ollama.error().message, HasSubstr("format: 'format' is not supported"));
}

TEST(StructuredRequests, OllamaFormatIsJsonOrASchema) {
  const auto json = ollama::parse_chat_request(ollama_chat("json"));
  ASSERT_TRUE(json.ok());
  ASSERT_NE(json->output_grammar, nullptr);
  EXPECT_TRUE(request_accepts(*json->output_grammar, "{}"));
  const auto schema = ollama::parse_chat_request(ollama_chat(ordered_json::parse(R"({"type": "array",
      "items": {"type": "boolean"}, "maxItems": 1})")));
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(request_accepts(*schema->output_grammar, "[true]"));
  EXPECT_FALSE(request_accepts(*schema->output_grammar, "[true,false]"));
  const auto none = ollama::parse_chat_request(ollama_chat(""));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->output_grammar, nullptr);
}

}  // namespace
}  // namespace lightseek::server

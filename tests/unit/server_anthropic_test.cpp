#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/anthropic_protocol.h"
#include "server_test_support.h"

namespace lightseek::server {
namespace {

using testing::fails_with;
using testing::fixed_meta;
using testing::has_id_shape;
using testing::json;
using testing::weather_call;
using nlohmann::ordered_json;

ordered_json messages_body(std::string_view extra_fields = "") {
  std::string text = R"({"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]})";
  if (!extra_fields.empty()) text = text.substr(0, text.size() - 1) + ", " + std::string(extra_fields) + "}";
  return json(text);
}

TEST(ServerAnthropicMessages, EveryFieldReachesTheRequest) {
  const auto parsed = anthropic::parse_messages_request(json(R"({
    "model": "deepseek-v4-flash", "max_tokens": 4096,
    "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "Use tools."}],
    "messages": [
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Need the tool.", "signature": "abc"},
        {"type": "redacted_thinking", "data": "xyz"},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18C"}], "is_error": false},
        {"type": "text", "text": "Thanks"}]}
    ],
    "tools": [{"name": "get_weather", "description": "Weather of a city",
               "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
               "cache_control": {"type": "ephemeral"}}],
    "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "stop_sequences": ["END"], "temperature": 0.5, "top_p": 0.9, "top_k": 40,
    "stream": true, "metadata": {"user_id": "u"}
  })"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const GenerationRequest& request = *parsed;
  EXPECT_EQ(request.endpoint, ApiEndpoint::AnthropicMessages);
  EXPECT_EQ(request.protocol(), ApiProtocol::Anthropic);
  EXPECT_EQ(request.max_tokens, 4096);
  ASSERT_EQ(request.messages.size(), 4u);
  EXPECT_EQ(request.messages[0].role, "system");
  EXPECT_EQ(request.messages[0].content, "Be brief.\n\nUse tools.");
  EXPECT_EQ(request.messages[1].content, "Weather in Paris?");
  const ChatMessage& assistant = request.messages[2];
  EXPECT_EQ(assistant.reasoning_content, "Need the tool.");
  EXPECT_EQ(assistant.content, "Checking.");
  ASSERT_EQ(assistant.tool_calls.size(), 1u);
  EXPECT_EQ(assistant.tool_calls[0].id, "toolu_1");
  EXPECT_EQ(assistant.tool_calls[0].arguments.dump(), R"({"city":"Paris"})");
  EXPECT_EQ(request.messages[3].content.dump(),
            R"([{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"18C"}]},)"
            R"({"type":"text","text":"Thanks"}])");
  EXPECT_EQ(request.tools.dump(),
            R"([{"type":"function","function":{"name":"get_weather","description":"Weather of a city",)"
            R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])");
  EXPECT_EQ(request.tool_choice.mode, ToolChoice::Mode::Required);
  EXPECT_FALSE(request.tool_choice.parallel_calls);
  EXPECT_EQ(request.thinking, ThinkingMode::Thinking);
  EXPECT_EQ(request.thinking_budget_tokens, 2048);
  EXPECT_EQ(request.stop, std::vector<std::string>{"END"});
  EXPECT_FLOAT_EQ(request.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(request.sampling.top_p, 0.9f);
  EXPECT_EQ(request.sampling.top_k, 40);
  EXPECT_TRUE(request.stream);
  const std::string prompt = render_prompt(request);
  EXPECT_NE(prompt.find("Be brief.\n\nUse tools.\n\n## Tools"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("<tool_result>18C</tool_result>\n\nThanks"), std::string::npos) << prompt;
}

TEST(ServerAnthropicMessages, PrefillAndToolChoices) {
  auto prefill = anthropic::parse_messages_request(json(R"({"model": "m", "max_tokens": 10, "messages": [
      {"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi"}]})"));
  ASSERT_TRUE(prefill.ok()) << prefill.error().message;
  EXPECT_TRUE(prefill->messages.back().without_eos);
  EXPECT_EQ(render_prompt(*prefill), "<｜begin▁of▁sentence｜><｜User｜>Say hi<｜Assistant｜></think>Hi");

  const std::string tools = R"("tools": [{"name": "f", "input_schema": {"type": "object"}}])";
  auto none = anthropic::parse_messages_request(messages_body(tools + R"(, "tool_choice": {"type": "none"})"));
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(none->tool_choice.mode, ToolChoice::Mode::None);
  EXPECT_EQ(render_prompt(*none).find("## Tools"), std::string::npos);  // none: the tools are not shown
  auto named = anthropic::parse_messages_request(messages_body(tools + R"(, "tool_choice": {"type": "tool", "name": "f"})"));
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->tool_choice.mode, ToolChoice::Mode::Named);
  EXPECT_EQ(named->tool_choice.name, "f");
  EXPECT_EQ(named->tools[0].dump(), R"({"type":"function","function":{"name":"f","parameters":{"type":"object"}}})");
}

TEST(ServerAnthropicMessages, InvalidRequestsNameTheField) {
  struct Bad {
    const char* name;
    std::string body;
    std::string param;
  };
  const std::string start = R"({"model": "m", "max_tokens": 100, )";
  const std::string hi = R"("messages": [{"role": "user", "content": "Hi"}])";
  const std::vector<Bad> cases = {
      {"max_tokens missing", R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})", "max_tokens"},
      {"max_tokens zero", R"({"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "Hi"}]})",
       "max_tokens"},
      {"max_tokens negative", R"({"model": "m", "max_tokens": -5, "messages": [{"role": "user", "content": "Hi"}]})",
       "max_tokens"},
      {"system role", start + R"("messages": [{"role": "system", "content": "x"}]})", "messages[0].role"},
      {"content a number", start + R"("messages": [{"role": "user", "content": 3}]})", "messages[0].content"},
      {"content missing", start + R"("messages": [{"role": "user"}]})", "messages[0].content"},
      {"image block",
       start + R"("messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]})",
       "messages[0].content[0].type"},
      {"tool_result without id",
       start + R"("messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}]})",
       "messages[0].content[0].tool_use_id"},
      {"tool_use input not an object",
       start + R"("messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": "x"}]}]})",
       "messages[0].content[0].input"},
      {"unknown block field", start + R"("messages": [{"role": "user", "content": [{"type": "text", "text": "a", "x": 1}]}]})",
       "messages[0].content[0].x"},
      {"system a number", start + R"("system": 5, )" + hi + "}", "system"},
      {"budget too small", start + R"("thinking": {"type": "enabled", "budget_tokens": 100}, )" + hi + "}",
       "thinking.budget_tokens"},
      {"budget over max_tokens",
       R"({"model": "m", "max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 2000}, )" + hi + "}",
       "thinking.budget_tokens"},
      {"budget missing", start + R"("thinking": {"type": "enabled"}, )" + hi + "}", "thinking.budget_tokens"},
      {"thinking type", start + R"("thinking": {"type": "sometimes"}, )" + hi + "}", "thinking.type"},
      {"temperature above one", start + R"("temperature": 1.5, )" + hi + "}", "temperature"},
      {"top_k negative", start + R"("top_k": -1, )" + hi + "}", "top_k"},
      {"stop sequence empty", start + R"("stop_sequences": [""], )" + hi + "}", "stop_sequences[0]"},
      {"server tool", start + R"("tools": [{"type": "bash_20250124", "name": "bash"}], )" + hi + "}", "tools[0].type"},
      {"tool without schema", start + R"("tools": [{"name": "f"}], )" + hi + "}", "tools[0].input_schema"},
      {"tool_choice unknown tool",
       start + R"("tools": [{"name": "f", "input_schema": {}}], "tool_choice": {"type": "tool", "name": "g"}, )" + hi + "}",
       "tool_choice"},
      {"tool_choice type", start + R"("tool_choice": {"type": "maybe"}, )" + hi + "}", "tool_choice.type"},
      {"unknown field", start + R"("temperture": 1, )" + hi + "}", "temperture"},
  };
  for (const Bad& bad : cases) {
    EXPECT_TRUE(fails_with(anthropic::parse_messages_request(json(bad.body)), 400, bad.param)) << bad.name;
  }
}

TEST(ServerAnthropicCountTokens, ParsesThePromptOnly) {
  auto parsed = anthropic::parse_count_tokens_request(
      json(R"({"model": "m", "system": "S", "messages": [{"role": "user", "content": "Hi"}]})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->endpoint, ApiEndpoint::AnthropicCountTokens);
  EXPECT_EQ(render_prompt(*parsed), "<｜begin▁of▁sentence｜>S<｜User｜>Hi<｜Assistant｜></think>");
  EXPECT_TRUE(fails_with(anthropic::parse_count_tokens_request(messages_body()), 400, "max_tokens"));
  EXPECT_EQ(anthropic::count_tokens_body(42).dump(), R"({"input_tokens":42})");
}

Usage sample_usage() {
  Usage usage;
  usage.prompt_tokens = 20;
  usage.cached_prompt_tokens = 8;
  usage.completion_tokens = 12;
  return usage;
}

GenerationRequest messages_request(std::string_view extra = "") {
  auto parsed = anthropic::parse_messages_request(messages_body(extra));
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return *parsed;
}

TEST(ServerAnthropicMessages, ResponseBodyHasAnthropicsExactShape) {
  FinishedChoice choice;
  choice.reasoning = "Let me check.";
  choice.content = "I'll look.";
  choice.tool_calls = {weather_call("toolu_abc")};
  choice.finish_reason = FinishReason::ToolCalls;
  EXPECT_EQ(anthropic::response_body(messages_request(), GenerationOutcome{{choice}, sample_usage()},
                                     fixed_meta("msg_test"))
                .dump(),
            R"({"id":"msg_test","type":"message","role":"assistant","model":"deepseek-v4-flash","content":[)"
            R"({"type":"thinking","thinking":"Let me check.","signature":""},{"type":"text","text":"I'll look."},)"
            R"({"type":"tool_use","id":"toolu_abc","name":"get_weather","input":{"city":"Paris"}}],)"
            R"("stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":12,)"
            R"("cache_creation_input_tokens":0,"cache_read_input_tokens":8,"output_tokens":12}})");

  FinishedChoice stopped;
  stopped.content = "Done";
  stopped.stop_sequence = "END";
  const ordered_json body =
      anthropic::response_body(messages_request(), GenerationOutcome{{stopped}, Usage{}}, fixed_meta("msg_2"));
  EXPECT_EQ(body["stop_reason"], "stop_sequence");
  EXPECT_EQ(body["stop_sequence"], "END");
  stopped.stop_sequence.reset();
  stopped.finish_reason = FinishReason::Length;
  EXPECT_EQ(anthropic::response_body(messages_request(), GenerationOutcome{{stopped}, Usage{}}, fixed_meta("m"))["stop_reason"],
            "max_tokens");
  stopped.finish_reason = FinishReason::Stop;
  EXPECT_EQ(anthropic::response_body(messages_request(), GenerationOutcome{{stopped}, Usage{}}, fixed_meta("m"))["stop_reason"],
            "end_turn");

  FinishedChoice unnamed;
  unnamed.tool_calls = {weather_call("")};
  unnamed.finish_reason = FinishReason::ToolCalls;
  const ordered_json with_new_id =
      anthropic::response_body(messages_request(), GenerationOutcome{{unnamed}, Usage{}}, fixed_meta("m"));
  EXPECT_TRUE(has_id_shape(with_new_id["content"][0]["id"].get<std::string>(), "toolu_"));
}

std::string event(const std::string& name, const std::string& data) {
  return "event: " + name + "\ndata: " + data + "\n\n";
}

TEST(ServerAnthropicMessages, StreamEventsWithBlockIndices) {
  auto stream = anthropic::make_stream_formatter(messages_request(R"("stream": true)"), fixed_meta("msg_test"));
  EXPECT_EQ(stream->content_type(), "text/event-stream");
  std::string bytes;
  bytes += stream->write(StreamStarted{20, 8});
  bytes += stream->write(ReasoningDelta{0, "Hmm"});
  bytes += stream->write(ReasoningDelta{0, " ok"});
  bytes += stream->write(ContentDelta{0, "Sure.", {}});
  bytes += stream->write(ToolCallCompleted{0, weather_call("toolu_abc")});
  bytes += stream->write(ChoiceFinished{0, FinishReason::ToolCalls, std::nullopt});
  bytes += stream->write(StreamFinished{sample_usage()});
  EXPECT_TRUE(stream->finished());
  const std::string usage =
      R"({"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":8,"output_tokens":)";
  const std::string expected =
      event("message_start",
            R"({"type":"message_start","message":{"id":"msg_test","type":"message","role":"assistant",)"
            R"("model":"deepseek-v4-flash","content":[],"stop_reason":null,"stop_sequence":null,"usage":)" +
                usage + "0}}}") +
      event("content_block_start",
            R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}})") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" ok"}})") +
      event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
      event("content_block_start",
            R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Sure."}})") +
      event("content_block_stop", R"({"type":"content_block_stop","index":1})") +
      event("content_block_start",
            R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_abc",)"
            R"("name":"get_weather","input":{}}})") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",)"
            R"("partial_json":"{\"city\":\"Paris\"}"}})") +
      event("content_block_stop", R"({"type":"content_block_stop","index":2})") +
      event("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":)" + usage +
                "12}}") +
      event("message_stop", R"({"type":"message_stop"})");
  EXPECT_EQ(bytes, expected);
}

TEST(ServerAnthropicMessages, StreamOpensLazilyAndClosesAnOpenBlock) {
  auto stream = anthropic::make_stream_formatter(messages_request(), fixed_meta("msg_x"));
  std::string bytes = stream->write(ContentDelta{0, "Hi", {}});
  EXPECT_EQ(bytes.rfind("event: message_start\n", 0), 0u);
  bytes = stream->write(StreamFinished{});  // no ChoiceFinished: the block is closed, the turn ends
  EXPECT_EQ(bytes, event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
                       event("message_delta",
                             R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
                             R"("usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
                             R"("output_tokens":0}})") +
                       event("message_stop", R"({"type":"message_stop"})"));
}

TEST(ServerAnthropicMessages, ErrorBodies) {
  EXPECT_EQ(anthropic::error_body(invalid_request("max_tokens", "'max_tokens' is required")).dump(),
            R"({"type":"error","error":{"type":"invalid_request_error","message":"'max_tokens' is required"}})");
  EXPECT_EQ(anthropic::error_body(overloaded("busy")).dump(),
            R"({"type":"error","error":{"type":"overloaded_error","message":"busy"}})");
  auto stream = anthropic::make_stream_formatter(messages_request(), fixed_meta("m"));
  EXPECT_EQ(stream->write_error(server_error("boom")),
            event("error", R"({"type":"error","error":{"type":"api_error","message":"boom"}})"));
  EXPECT_TRUE(stream->finished());
}

}  // namespace
}  // namespace lightseek::server

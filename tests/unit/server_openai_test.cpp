#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/openai_protocol.h"
#include "server_test_support.h"

namespace lightseek::server {
namespace {

using testing::fails_with;
using testing::fixed_meta;
using testing::has_id_shape;
using testing::json;
using testing::weather_call;
using nlohmann::ordered_json;

constexpr const char* kToolsJson = R"([{"type": "function", "function": {"name": "get_weather",
  "description": "Weather of a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])";

ordered_json chat_body(std::string_view extra_fields = "") {
  std::string text = R"({"model": "deepseek-v4-flash", "messages": [{"role": "user", "content": "Hi"}]})";
  if (!extra_fields.empty()) text = text.substr(0, text.size() - 1) + ", " + std::string(extra_fields) + "}";
  return json(text);
}

TEST(ServerOpenAIChat, EveryFieldReachesTheRequest) {
  const ordered_json body = json(std::string(R"({
    "model": "deepseek-v4-flash",
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Weather"}, {"type": "text", "text": "in Paris?"}]},
      {"role": "assistant", "content": null, "reasoning_content": "Need the tool.",
       "tool_calls": [{"id": "call_1", "type": "function",
                       "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
    ],
    "tools": )") + kToolsJson + R"(,
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": false,
    "thinking": {"type": "enabled"}, "reasoning_effort": "max",
    "temperature": 0.6, "top_p": 0.95, "top_k": 20, "seed": 42, "n": 2,
    "frequency_penalty": 0.5, "presence_penalty": -0.5, "logit_bias": {"17": -100},
    "stop": ["END", "STOP"], "max_completion_tokens": 300,
    "logprobs": true, "top_logprobs": 3,
    "stream": true, "stream_options": {"include_usage": true},
    "response_format": {"type": "json_object"},
    "user": "someone", "metadata": {"k": "v"}
  })");
  const auto parsed = openai::parse_chat_request(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const GenerationRequest& request = *parsed;
  EXPECT_EQ(request.endpoint, ApiEndpoint::OpenAIChatCompletions);
  EXPECT_EQ(request.protocol(), ApiProtocol::OpenAI);
  EXPECT_EQ(request.model, "deepseek-v4-flash");
  ASSERT_EQ(request.messages.size(), 4u);
  EXPECT_EQ(request.messages[0].role, "system");
  EXPECT_EQ(request.messages[0].content, "Be brief.");
  EXPECT_EQ(request.messages[1].content.dump(),
            R"([{"type":"text","text":"Weather"},{"type":"text","text":"in Paris?"}])");
  EXPECT_EQ(request.messages[2].reasoning_content, "Need the tool.");
  ASSERT_EQ(request.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(request.messages[2].tool_calls[0].id, "call_1");
  EXPECT_EQ(request.messages[2].tool_calls[0].name, "get_weather");
  EXPECT_EQ(request.messages[2].tool_calls[0].arguments.dump(), R"({"city":"Paris"})");
  EXPECT_EQ(request.messages[3].role, "tool");
  EXPECT_EQ(request.messages[3].tool_call_id, "call_1");
  EXPECT_FALSE(request.messages[3].without_eos);
  EXPECT_EQ(request.tools.dump(), json(kToolsJson).dump());
  EXPECT_EQ(request.tool_choice.mode, ToolChoice::Mode::Named);
  EXPECT_EQ(request.tool_choice.name, "get_weather");
  EXPECT_FALSE(request.tool_choice.parallel_calls);
  EXPECT_EQ(request.thinking, ThinkingMode::Thinking);
  EXPECT_EQ(request.effort, ReasoningEffort::Max);
  EXPECT_FLOAT_EQ(request.sampling.temperature, 0.6f);
  EXPECT_FLOAT_EQ(request.sampling.top_p, 0.95f);
  EXPECT_EQ(request.sampling.top_k, 20);
  EXPECT_EQ(request.sampling.seed, 42u);
  EXPECT_TRUE(request.seed_from_client);
  EXPECT_FLOAT_EQ(request.sampling.frequency_penalty, 0.5f);
  EXPECT_FLOAT_EQ(request.sampling.presence_penalty, -0.5f);
  EXPECT_FLOAT_EQ(request.sampling.logit_bias.at(17), -100.0f);
  EXPECT_EQ(request.n, 2);
  EXPECT_EQ(request.stop, (std::vector<std::string>{"END", "STOP"}));
  EXPECT_EQ(request.max_tokens, 300);
  EXPECT_TRUE(request.logprobs.enabled);
  EXPECT_EQ(request.logprobs.top, 3);
  EXPECT_TRUE(request.stream);
  EXPECT_TRUE(request.include_usage);
  EXPECT_EQ(request.response_format.dump(), R"({"type":"json_object"})");
  EXPECT_TRUE(request.parses_output());
  EXPECT_EQ(request.output_mode(), ThinkingMode::Thinking);

  const std::string prompt = render_prompt(request);
  EXPECT_EQ(prompt.rfind("<｜begin▁of▁sentence｜>Reasoning Effort: Absolute maximum", 0), 0u) << prompt;
  EXPECT_NE(prompt.find("## Tools"), std::string::npos);
  EXPECT_NE(prompt.find("Weather\n\nin Paris?"), std::string::npos);
  EXPECT_NE(prompt.find("<｜DSML｜invoke name=\"get_weather\">"), std::string::npos);
  EXPECT_NE(prompt.find("<tool_result>18C</tool_result>"), std::string::npos) << prompt;
  EXPECT_EQ(prompt.substr(prompt.size() - std::string("<｜Assistant｜><think>").size()), "<｜Assistant｜><think>");
}

TEST(ServerOpenAIChat, DefaultsAndThinkingControls) {
  auto parsed = openai::parse_chat_request(chat_body());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->thinking, ThinkingMode::Chat);
  EXPECT_EQ(parsed->n, 1);
  EXPECT_FALSE(parsed->max_tokens);
  EXPECT_FALSE(parsed->stream);
  EXPECT_FALSE(parsed->seed_from_client);
  EXPECT_TRUE(parsed->tools.is_null());

  RequestLimits thinking_by_default;
  thinking_by_default.default_thinking = ThinkingMode::Thinking;
  EXPECT_EQ(openai::parse_chat_request(chat_body(), thinking_by_default)->thinking, ThinkingMode::Thinking);
  EXPECT_EQ(openai::parse_chat_request(chat_body(R"("thinking": {"type": "disabled"})"), thinking_by_default)->thinking,
            ThinkingMode::Chat);
  EXPECT_EQ(openai::parse_chat_request(chat_body(R"("reasoning_effort": "none")"), thinking_by_default)->thinking,
            ThinkingMode::Chat);

  auto effort = openai::parse_chat_request(chat_body(R"("reasoning_effort": "low")"));
  EXPECT_EQ(effort->thinking, ThinkingMode::Thinking);
  EXPECT_EQ(effort->effort, ReasoningEffort::High);
  auto disabled = openai::parse_chat_request(chat_body(R"("thinking": {"type": "disabled"}, "reasoning_effort": "high")"));
  EXPECT_EQ(disabled->thinking, ThinkingMode::Chat);

  // Two seeds drawn for two requests without one differ.
  EXPECT_NE(openai::parse_chat_request(chat_body())->sampling.seed, openai::parse_chat_request(chat_body())->sampling.seed);
  // top_p 0 is greedy; max_tokens is the older spelling.
  auto greedy = openai::parse_chat_request(chat_body(R"("top_p": 0, "max_tokens": 5, "stop": "x")"));
  ASSERT_TRUE(greedy.ok()) << greedy.error().message;
  EXPECT_EQ(greedy->sampling.temperature, 0.0f);
  EXPECT_EQ(greedy->max_tokens, 5);
  EXPECT_EQ(greedy->stop, std::vector<std::string>{"x"});
  // OpenAI's developer role is system.
  auto developer = openai::parse_chat_request(json(
      R"({"model": "m", "messages": [{"role": "developer", "content": "Rules"}, {"role": "user", "content": "Hi"}]})"));
  ASSERT_TRUE(developer.ok());
  EXPECT_EQ(developer->messages[0].role, "system");
}

TEST(ServerOpenAIChat, AFinalAssistantMessageIsContinued) {
  auto parsed = openai::parse_chat_request(json(R"({"model": "m", "messages": [
      {"role": "user", "content": "Count"}, {"role": "assistant", "content": "1, 2,", "prefix": true}],
      "thinking": {"type": "enabled"}})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->messages.back().without_eos);
  EXPECT_EQ(parsed->output_mode(), ThinkingMode::Chat);
  const std::string prompt = render_prompt(*parsed);
  EXPECT_EQ(prompt.substr(prompt.size() - 5), "1, 2,");
}

struct BadRequest {
  const char* name;
  std::string body;
  int status;
  std::string param;
};

TEST(ServerOpenAIChat, InvalidRequestsNameTheField) {
  const std::string user = R"({"role": "user", "content": "Hi"})";
  auto with = [&](const std::string& fields) { return R"({"model": "m", "messages": [)" + user + "], " + fields + "}"; };
  const std::vector<BadRequest> cases = {
      {"model missing", R"({"messages": [{"role": "user", "content": "Hi"}]})", 400, "model"},
      {"model not a string", R"({"model": 5, "messages": []})", 400, "model"},
      {"messages missing", R"({"model": "m"})", 400, "messages"},
      {"messages not an array", R"({"model": "m", "messages": {}})", 400, "messages"},
      {"messages empty", R"({"model": "m", "messages": []})", 400, "messages"},
      {"message not an object", R"({"model": "m", "messages": ["hi"]})", 400, "messages[0]"},
      {"role missing", R"({"model": "m", "messages": [{"content": "Hi"}]})", 400, "messages[0].role"},
      {"unknown role", R"({"model": "m", "messages": [{"role": "wizard", "content": "Hi"}]})", 400, "messages[0].role"},
      {"content a number", R"({"model": "m", "messages": [{"role": "user", "content": 7}]})", 400, "messages[0].content"},
      {"image part", R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})",
       400, "messages[0].content[0].type"},
      {"text part without text", R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]})", 400,
       "messages[0].content[0].text"},
      {"tool without id", R"({"model": "m", "messages": [{"role": "tool", "content": "x"}]})", 400,
       "messages[0].tool_call_id"},
      {"arguments not JSON",
       R"({"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}, {"role": "user", "content": "b"}]})",
       400, "messages[1].tool_calls[0].function.arguments"},
      {"arguments an array",
       R"({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "[1]"}}]}]})",
       400, "messages[0].tool_calls[0].function.arguments"},
      {"tool call without name",
       R"({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}]})", 400,
       "messages[0].tool_calls[0].function.name"},
      {"unknown message field", R"({"model": "m", "messages": [{"role": "user", "content": "a", "mood": 1}]})", 400,
       "messages[0].mood"},
      {"tool result without a call", R"({"model": "m", "messages": [{"role": "tool", "tool_call_id": "x", "content": "r"}]})",
       400, "messages"},
      {"unknown field", with(R"("foo": 1)"), 400, "foo"},
      {"negative max_tokens", with(R"("max_tokens": -1)"), 400, "max_tokens"},
      {"zero max_completion_tokens", with(R"("max_completion_tokens": 0)"), 400, "max_completion_tokens"},
      {"fractional max_tokens", with(R"("max_tokens": 2.5)"), 400, "max_tokens"},
      {"max_tokens a string", with(R"("max_tokens": "100")"), 400, "max_tokens"},
      {"disagreeing limits", with(R"("max_tokens": 5, "max_completion_tokens": 6)"), 400, "max_tokens"},
      {"n zero", with(R"("n": 0)"), 400, "n"},
      {"n too large", with(R"("n": 17)"), 400, "n"},
      {"temperature too high", with(R"("temperature": 2.5)"), 400, "temperature"},
      {"top_p above one", with(R"("top_p": 1.5)"), 400, "top_p"},
      {"presence penalty", with(R"("presence_penalty": -3)"), 400, "presence_penalty"},
      {"logit bias key", with(R"("logit_bias": {"abc": 1})"), 400, "logit_bias"},
      {"logit bias value", with(R"("logit_bias": {"5": 1000})"), 400, "logit_bias.5"},
      {"stop empty", with(R"("stop": [""])"), 400, "stop[0]"},
      {"stop not strings", with(R"("stop": [1])"), 400, "stop[0]"},
      {"too many stops", with(R"("stop": ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"])"), 400,
       "stop"},
      {"top_logprobs alone", with(R"("top_logprobs": 2)"), 400, "top_logprobs"},
      {"top_logprobs too many", with(R"("logprobs": true, "top_logprobs": 21)"), 400, "top_logprobs"},
      {"stream_options without stream", with(R"("stream_options": {"include_usage": true})"), 400, "stream_options"},
      {"stream a string", with(R"("stream": "yes")"), 400, "stream"},
      {"tool_choice unknown tool", with(std::string(R"("tools": )") + kToolsJson +
                                        R"(, "tool_choice": {"type": "function", "function": {"name": "nope"}})"),
       400, "tool_choice"},
      {"tool_choice required without tools", with(R"("tool_choice": "required")"), 400, "tool_choice"},
      {"tool_choice word", with(R"("tool_choice": "sometimes")"), 400, "tool_choice"},
      {"tool type", with(R"("tools": [{"type": "web_search"}])"), 400, "tools[0].type"},
      {"tool without function", with(R"("tools": [{"type": "function"}])"), 400, "tools[0].function"},
      {"functions", with(R"("functions": [])"), 400, "functions"},
      {"response_format type", with(R"("response_format": {"type": "xml"})"), 400, "response_format.type"},
      {"json_schema without name", with(R"("response_format": {"type": "json_schema", "json_schema": {"schema": {}}})"),
       400, "response_format.json_schema.name"},
      {"reasoning_effort word", with(R"("reasoning_effort": "extreme")"), 400, "reasoning_effort"},
      {"thinking type", with(R"("thinking": {"type": "maybe"})"), 400, "thinking.type"},
      {"effort none with thinking", with(R"("thinking": {"type": "enabled"}, "reasoning_effort": "none")"), 400,
       "reasoning_effort"},
  };
  for (const BadRequest& bad : cases) {
    EXPECT_TRUE(fails_with(openai::parse_chat_request(json(bad.body)), bad.status, bad.param)) << bad.name;
  }
}

TEST(ServerOpenAIChat, LimitsAndInvalidUtf8) {
  RequestLimits limits;
  limits.context_tokens = 1000;
  EXPECT_TRUE(fails_with(openai::parse_chat_request(chat_body(R"("max_tokens": 1001)"), limits), 400, "max_tokens"));
  EXPECT_TRUE(openai::parse_chat_request(chat_body(R"("max_tokens": 1000)"), limits).ok());

  // Built in code (the body parser would already refuse these bytes).
  ordered_json body = chat_body();
  body["messages"][0]["content"] = std::string("bad \xC3\x28 bytes");
  EXPECT_TRUE(fails_with(openai::parse_chat_request(body), 400, "messages[0].content"));
  body = chat_body();
  body["model"] = std::string("\xFF");
  EXPECT_TRUE(fails_with(openai::parse_chat_request(body), 400, "model"));
  // A body that is not an object.
  EXPECT_TRUE(fails_with(openai::parse_chat_request(json("[1, 2]")), 400, ""));
}

GenerationRequest openai_chat_request(std::string_view extra = "") {
  auto parsed = openai::parse_chat_request(chat_body(extra));
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return *parsed;
}

Usage sample_usage_with_reasoning() {
  Usage usage;
  usage.prompt_tokens = 20;
  usage.cached_prompt_tokens = 8;
  usage.completion_tokens = 12;
  usage.reasoning_tokens = 5;
  return usage;
}

TEST(ServerOpenAIChat, ResponseBodyHasOpenAIsExactShape) {
  FinishedChoice choice;
  choice.reasoning = "Let me check.";
  choice.tool_calls = {weather_call("call_abc")};
  choice.finish_reason = FinishReason::ToolCalls;
  const GenerationOutcome outcome{{choice}, sample_usage_with_reasoning()};
  const ordered_json body =
      openai::response_body(openai_chat_request(R"("thinking": {"type": "enabled"})"), outcome, fixed_meta("chatcmpl-test"));
  EXPECT_EQ(body.dump(),
            R"({"id":"chatcmpl-test","object":"chat.completion","created":1700000000,"model":"deepseek-v4-flash",)"
            R"("choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"Let me check.",)"
            R"("tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather",)"
            R"("arguments":"{\"city\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],)"
            R"("usage":{"prompt_tokens":20,"completion_tokens":12,"total_tokens":32,)"
            R"("prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":5}}})");

  // Chat mode, plain text, logprobs with a token that is half a UTF-8 character.
  FinishedChoice text;
  text.content = "Hi";
  text.finish_reason = FinishReason::Length;
  text.logprobs = {TokenLogprob{"Hi", -0.25, {TokenAlternative{"Hi", -0.25}, TokenAlternative{"\xC3", -2.0}}}};
  const ordered_json plain = openai::response_body(openai_chat_request(R"("logprobs": true, "top_logprobs": 2)"),
                                                   GenerationOutcome{{text}, Usage{}}, fixed_meta("chatcmpl-2"));
  EXPECT_EQ(plain["choices"][0].dump(),
            R"({"index":0,"message":{"role":"assistant","content":"Hi"},"logprobs":{"content":[{"token":"Hi",)"
            R"("logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},)"
            "{\"token\":\"\xEF\xBF\xBD\",\"logprob\":-2.0,\"bytes\":[195]}]}]},\"finish_reason\":\"length\"}");
}

TEST(ServerOpenAIChat, MissingToolCallIdsAreGeneratedUnguessably) {
  FinishedChoice choice;
  choice.tool_calls = {weather_call(""), weather_call("")};
  choice.finish_reason = FinishReason::ToolCalls;
  const ordered_json body = openai::response_body(openai_chat_request(), GenerationOutcome{{choice}, Usage{}}, fixed_meta("x"));
  const std::string first = body["choices"][0]["message"]["tool_calls"][0]["id"];
  const std::string second = body["choices"][0]["message"]["tool_calls"][1]["id"];
  EXPECT_TRUE(has_id_shape(first, "call_"));
  EXPECT_TRUE(has_id_shape(second, "call_"));
  EXPECT_NE(first, second);
}

TEST(ServerOpenAIChat, StreamBytesForReasoningContentAndAToolCall) {
  const GenerationRequest request =
      openai_chat_request(R"("stream": true, "stream_options": {"include_usage": true}, "thinking": {"type": "enabled"})");
  auto stream = openai::make_stream_formatter(request, fixed_meta("chatcmpl-test"));
  EXPECT_EQ(stream->content_type(), "text/event-stream");
  std::string bytes;
  bytes += stream->write(StreamStarted{20, 8});
  bytes += stream->write(ReasoningDelta{0, "Hmm"});
  bytes += stream->write(ReasoningDelta{0, ""});  // nothing to send
  bytes += stream->write(ContentDelta{0, "Sure.", {}});
  bytes += stream->write(ToolCallCompleted{0, weather_call("call_abc")});
  bytes += stream->write(ChoiceFinished{0, FinishReason::ToolCalls, std::nullopt});
  EXPECT_FALSE(stream->finished());
  bytes += stream->write(StreamFinished{sample_usage_with_reasoning()});
  EXPECT_TRUE(stream->finished());
  EXPECT_EQ(stream->write(ContentDelta{0, "late", {}}), "");

  const std::string head = R"(data: {"id":"chatcmpl-test","object":"chat.completion.chunk","created":1700000000,)"
                           R"("model":"deepseek-v4-flash","choices":[{"index":0,"delta":)";
  const std::string tail = R"(,"logprobs":null,"finish_reason":null}],"usage":null})"
                           "\n\n";
  const std::string expected =
      head + R"({"role":"assistant","content":""})" + tail +  //
      head + R"({"reasoning_content":"Hmm"})" + tail +        //
      head + R"({"content":"Sure."})" + tail +                //
      head +
      R"({"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather",)"
      R"("arguments":"{\"city\":\"Paris\"}"}}]})" +
      tail +  //
      head + R"({},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null})" + "\n\n" +
      R"(data: {"id":"chatcmpl-test","object":"chat.completion.chunk","created":1700000000,)"
      R"("model":"deepseek-v4-flash","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":12,)"
      R"("total_tokens":32,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":)"
      R"({"reasoning_tokens":5}}})"
      "\n\ndata: [DONE]\n\n";
  EXPECT_EQ(bytes, expected);
}

TEST(ServerOpenAIChat, StreamWithoutUsageNumbersToolCallsAndChoices) {
  const GenerationRequest request = openai_chat_request(R"("stream": true, "n": 2)");
  auto stream = openai::make_stream_formatter(request, fixed_meta("c"));
  // No StreamStarted: the opening chunks come with the first event.
  std::string bytes = stream->write(ToolCallCompleted{1, weather_call("call_a")});
  bytes += stream->write(ToolCallCompleted{1, weather_call("")});
  bytes += stream->write(ChoiceFinished{1, FinishReason::ToolCalls, std::nullopt});
  bytes += stream->write(StreamFinished{});
  std::vector<ordered_json> chunks;
  std::size_t at = 0;
  while (true) {
    const std::size_t end = bytes.find("\n\n", at);
    if (end == std::string::npos) break;
    const std::string event = bytes.substr(at, end - at);
    ASSERT_EQ(event.rfind("data: ", 0), 0u);
    if (event != "data: [DONE]") chunks.push_back(json(event.substr(6)));
    at = end + 2;
  }
  EXPECT_EQ(at, bytes.size());
  EXPECT_EQ(bytes.substr(bytes.size() - 14), "data: [DONE]\n\n");
  ASSERT_EQ(chunks.size(), 6u);  // 2 openings, 2 calls, choice 1 finished, choice 0 closed at the end
  for (const ordered_json& chunk : chunks) EXPECT_FALSE(chunk.contains("usage"));
  EXPECT_EQ(chunks[0]["choices"][0]["index"], 0);
  EXPECT_EQ(chunks[1]["choices"][0]["index"], 1);
  EXPECT_EQ(chunks[2]["choices"][0]["delta"]["tool_calls"][0]["index"], 0);
  EXPECT_EQ(chunks[3]["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
  EXPECT_TRUE(has_id_shape(chunks[3]["choices"][0]["delta"]["tool_calls"][0]["id"].get<std::string>(), "call_"));
  EXPECT_EQ(chunks[4]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(chunks[5]["choices"][0]["index"], 0);
  EXPECT_EQ(chunks[5]["choices"][0]["finish_reason"], "stop");
}

TEST(ServerOpenAIChat, StreamErrorAndErrorBody) {
  auto stream = openai::make_stream_formatter(openai_chat_request(R"("stream": true)"), fixed_meta("c"));
  (void)stream->write(ContentDelta{0, "partial", {}});
  EXPECT_EQ(stream->write_error(server_error("model failed")),
            "data: {\"error\":{\"message\":\"model failed\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
  EXPECT_TRUE(stream->finished());
  EXPECT_EQ(stream->write(StreamFinished{}), "");

  EXPECT_EQ(openai::error_body(invalid_request("messages[0].role", "'messages[0].role' is bad")).dump(),
            R"({"error":{"message":"'messages[0].role' is bad","type":"invalid_request_error",)"
            R"("param":"messages[0].role","code":null}})");
  EXPECT_EQ(openai::error_body(model_not_found("gpt-9")).dump(),
            R"({"error":{"message":"model 'gpt-9' not found","type":"invalid_request_error","param":"model",)"
            R"("code":"model_not_found"}})");
}

TEST(ServerOpenAICompletions, RawPromptRoundTripAndBody) {
  auto parsed = openai::parse_completion_request(
      json(R"({"model": "m", "prompt": "<｜User｜>2+2=", "logprobs": 1, "stop": "\n", "temperature": 0, "echo": false})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->endpoint, ApiEndpoint::OpenAICompletions);
  EXPECT_EQ(parsed->raw_prompt, "<｜User｜>2+2=");
  EXPECT_EQ(render_prompt(*parsed), "<｜User｜>2+2=");
  EXPECT_FALSE(parsed->parses_output());
  EXPECT_EQ(parsed->max_tokens, 16);  // OpenAI's default for completions
  EXPECT_TRUE(parsed->logprobs.enabled);
  EXPECT_EQ(parsed->logprobs.top, 1);
  EXPECT_EQ(openai::parse_completion_request(json(R"({"model": "m", "prompt": ["one"]})"))->raw_prompt, "one");

  EXPECT_TRUE(fails_with(openai::parse_completion_request(json(R"({"model": "m"})")), 400, "prompt"));
  EXPECT_TRUE(fails_with(openai::parse_completion_request(json(R"({"model": "m", "prompt": [1, 2]})")), 400, "prompt"));
  EXPECT_TRUE(fails_with(openai::parse_completion_request(json(R"({"model": "m", "prompt": "x", "echo": true})")), 400,
                         "echo"));
  EXPECT_TRUE(fails_with(openai::parse_completion_request(json(R"({"model": "m", "prompt": "x", "logprobs": 6})")), 400,
                         "logprobs"));
  EXPECT_TRUE(fails_with(openai::parse_completion_request(json(R"({"model": "m", "prompt": "x", "suffix": "y"})")), 400,
                         "suffix"));
  EXPECT_TRUE(fails_with(openai::parse_completion_request(json(R"({"model": "m", "prompt": "x", "best_of": 3})")), 400,
                         "best_of"));

  FinishedChoice choice;
  choice.content = "4";
  choice.logprobs = {TokenLogprob{"4", -0.5, {TokenAlternative{"4", -0.5}}}};
  Usage usage;
  usage.prompt_tokens = 5;
  usage.completion_tokens = 1;
  EXPECT_EQ(openai::response_body(*parsed, GenerationOutcome{{choice}, usage}, fixed_meta("cmpl-1")).dump(),
            R"({"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"deepseek-v4-flash",)"
            R"("choices":[{"text":"4","index":0,"logprobs":{"tokens":["4"],"token_logprobs":[-0.5],)"
            R"("top_logprobs":[{"4":-0.5}],"text_offset":[0]},"finish_reason":"stop"}],)"
            R"("usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}})");
}

TEST(ServerOpenAICompletions, StreamChunks) {
  auto parsed = openai::parse_completion_request(json(R"({"model": "m", "prompt": "a", "stream": true})"));
  ASSERT_TRUE(parsed.ok());
  auto stream = openai::make_stream_formatter(*parsed, fixed_meta("cmpl-1"));
  std::string bytes = stream->write(StreamStarted{});
  bytes += stream->write(ContentDelta{0, "b", {}});
  bytes += stream->write(ChoiceFinished{0, FinishReason::Length, std::nullopt});
  bytes += stream->write(StreamFinished{});
  const std::string head = R"(data: {"id":"cmpl-1","object":"text_completion","created":1700000000,)"
                           R"("model":"deepseek-v4-flash","choices":[)";
  EXPECT_EQ(bytes, head + R"({"text":"b","index":0,"logprobs":null,"finish_reason":null}]})" + "\n\n" + head +
                       R"({"text":"","index":0,"logprobs":null,"finish_reason":"length"}]})" + "\n\n" +
                       "data: [DONE]\n\n");
}

TEST(ServerOpenAIModels, ListBody) {
  ModelFacts facts;
  facts.name = "deepseek-v4-flash";
  facts.modified = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  EXPECT_EQ(openai::models_body({facts}).dump(),
            R"({"object":"list","data":[{"id":"deepseek-v4-flash","object":"model","created":1700000000,)"
            R"("owned_by":"lightseek"}]})");
}

}  // namespace
}  // namespace lightseek::server

// `lightseek serve` over HTTP, per API: scripted completions go through the real tokenizer,
// stop checker, output parser, scheduler and protocol layers, so reasoning, content and tool
// calls can be asserted exactly, plain and streamed.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/openai_protocol.h"
#include "server_http_support.h"

namespace lightseek::server::testing {
namespace {

const std::string kThinkingReply = "Two plus two.</think>It is 4.";
const std::string kToolReply =
    "Two cities, two calls.</think>Checking both.\n\n"
    "<｜DSML｜tool_calls>\n"
    "<｜DSML｜invoke name=\"get_weather\">\n"
    "<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n"
    "<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n"
    "</｜DSML｜invoke>\n"
    "<｜DSML｜invoke name=\"get_weather\">\n"
    "<｜DSML｜parameter name=\"city\" string=\"true\">Rome</｜DSML｜parameter>\n"
    "<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n"
    "</｜DSML｜invoke>\n"
    "</｜DSML｜tool_calls>";

const ordered_json kTools = ordered_json::parse(R"([{"type": "function", "function": {"name": "get_weather",
    "description": "Weather forecast", "parameters": {"type": "object", "properties": {
    "city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}])");

ordered_json openai_chat(bool stream) {
  return {{"model", kModelName},
          {"messages", {{{"role", "user"}, {"content", "What is 2+2?"}}}},
          {"thinking", {{"type", "enabled"}}},
          {"stream", stream}};
}

int64_t prompt_tokens_of(const ordered_json& openai_body) {
  auto parsed = openai::parse_chat_request(openai_body);
  EXPECT_TRUE(parsed.ok());
  return static_cast<int64_t>(builtin_model().tokenizer->encode(render_prompt(*parsed)).size());
}

TEST(ServerHttpOpenAI, ChatSplitsReasoningAndContent) {
  TestServer server({kThinkingReply});
  auto client = server.client();
  auto response = post_json(client, "/v1/chat/completions", openai_chat(false));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_FALSE(response->get_header_value("x-request-id").empty());
  const ordered_json body = ordered_json::parse(response->body);
  const ordered_json& message = body["choices"][0]["message"];
  EXPECT_EQ(message["reasoning_content"], "Two plus two.");
  EXPECT_EQ(message["content"], "It is 4.");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["model"], kModelName);
  EXPECT_EQ(body["usage"]["prompt_tokens"], prompt_tokens_of(openai_chat(false)));
  const int64_t generated = static_cast<int64_t>(builtin_model().tokenizer->encode(kThinkingReply).size()) + 1;
  EXPECT_EQ(body["usage"]["completion_tokens"], generated);  // and EOS
}

TEST(ServerHttpOpenAI, StreamedChatCarriesTheSameTextInDeltas) {
  TestServer server({kThinkingReply});
  auto client = server.client();
  ordered_json request = openai_chat(true);
  request["stream_options"] = {{"include_usage", true}};
  auto response = post_json(client, "/v1/chat/completions", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_NE(response->body.find("data: [DONE]\n\n"), std::string::npos);
  std::string reasoning, content, finish;
  int64_t completion_tokens = 0;
  for (const ordered_json& chunk : sse_payloads(response->body)) {
    if (chunk.contains("usage") && chunk["usage"].is_object()) completion_tokens = chunk["usage"]["completion_tokens"];
    if (chunk["choices"].empty()) continue;
    const ordered_json& delta = chunk["choices"][0]["delta"];
    if (delta.contains("reasoning_content")) reasoning += delta["reasoning_content"].get<std::string>();
    if (delta.contains("content") && delta["content"].is_string()) content += delta["content"].get<std::string>();
    if (chunk["choices"][0]["finish_reason"].is_string()) finish = chunk["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(reasoning, "Two plus two.");
  EXPECT_EQ(content, "It is 4.");
  EXPECT_EQ(finish, "stop");
  EXPECT_GT(completion_tokens, 3);
}

TEST(ServerHttpOpenAI, StopStringsMaxTokensAndSeveralChoices) {
  TestServer server({"alpha beta gamma", "one two three"});
  auto client = server.client();
  ordered_json request = {{"model", kModelName},
                          {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                          {"n", 2},
                          {"stop", {" gamma", " three"}}};
  auto response = post_json(client, "/v1/chat/completions", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const ordered_json body = ordered_json::parse(response->body);
  ASSERT_EQ(body["choices"].size(), 2u);
  EXPECT_EQ(body["choices"][0]["message"]["content"], "alpha beta");
  EXPECT_EQ(body["choices"][1]["message"]["content"], "one two");
  EXPECT_EQ(body["choices"][1]["finish_reason"], "stop");

  request = {{"model", kModelName}, {"prompt", "Count:"}, {"max_tokens", 1}};
  response = post_json(client, "/v1/completions", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const ordered_json completion = ordered_json::parse(response->body);
  const Tokenizer& tokenizer = *builtin_model().tokenizer;
  EXPECT_EQ(completion["choices"][0]["text"], tokenizer.decode({tokenizer.encode("alpha beta gamma")[0]}));
  EXPECT_EQ(completion["choices"][0]["finish_reason"], "length");
}

TEST(ServerHttpOpenAI, ToolCallsRoundTripIntoTheNextPromptByteForByte) {
  TestServer server({kToolReply});
  auto client = server.client();
  ordered_json request = {{"model", kModelName},
                          {"messages", {{{"role", "user"}, {"content", "Weather in Paris and Rome?"}}}},
                          {"thinking", {{"type", "enabled"}}},
                          {"tools", kTools}};
  auto response = post_json(client, "/v1/chat/completions", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const ordered_json body = ordered_json::parse(response->body);
  EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
  const ordered_json message = body["choices"][0]["message"];
  EXPECT_EQ(message["reasoning_content"], "Two cities, two calls.");
  EXPECT_EQ(message["content"], "Checking both.");
  ASSERT_EQ(message["tool_calls"].size(), 2u);
  EXPECT_EQ(message["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(message["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris","days":2})");
  EXPECT_EQ(message["tool_calls"][1]["function"]["arguments"], R"({"city":"Rome","days":2})");
  const std::string id = message["tool_calls"][0]["id"];
  EXPECT_EQ(id.rfind("call_", 0), 0u);
  EXPECT_NE(id, message["tool_calls"][1]["id"].get<std::string>());

  // The reply sent back as history renders exactly the text the model produced.
  ordered_json next = request;
  next["messages"].push_back(message);
  next["messages"].push_back({{"role", "tool"}, {"tool_call_id", id}, {"content", "18C"}});
  next["messages"].push_back(
      {{"role", "tool"}, {"tool_call_id", message["tool_calls"][1]["id"]}, {"content", "21C"}});
  auto parsed = openai::parse_chat_request(next);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const std::string prompt = render_prompt(*parsed);
  EXPECT_NE(prompt.find("<｜Assistant｜><think>" + kToolReply + "<｜end▁of▁sentence｜>"), std::string::npos) << prompt;
  response = post_json(client, "/v1/chat/completions", next);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(ordered_json::parse(response->body)["usage"]["prompt_tokens"],
            static_cast<int64_t>(builtin_model().tokenizer->encode(prompt).size()));
}

TEST(ServerHttpOpenAI, StreamedToolCallsArriveAsDeltas) {
  TestServer server({kToolReply});
  auto client = server.client();
  ordered_json request = {{"model", kModelName},
                          {"messages", {{{"role", "user"}, {"content", "Weather?"}}}},
                          {"thinking", {{"type", "enabled"}}},
                          {"tools", kTools},
                          {"stream", true}};
  auto response = post_json(client, "/v1/chat/completions", request);
  ASSERT_TRUE(response);
  std::vector<std::string> cities;
  std::string finish;
  for (const ordered_json& chunk : sse_payloads(response->body)) {
    const ordered_json& delta = chunk["choices"][0]["delta"];
    if (delta.contains("tool_calls")) {
      for (const ordered_json& call : delta["tool_calls"]) {
        cities.push_back(ordered_json::parse(call["function"]["arguments"].get<std::string>())["city"]);
      }
    }
    if (chunk["choices"][0]["finish_reason"].is_string()) finish = chunk["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(cities, (std::vector<std::string>{"Paris", "Rome"}));
  EXPECT_EQ(finish, "tool_calls");
}

TEST(ServerHttpAnthropic, MessagesPlainAndStreamed) {
  TestServer server({kThinkingReply, kToolReply});
  auto client = server.client();
  ordered_json request = {{"model", kModelName},
                          {"max_tokens", 2048},
                          {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
                          {"messages", {{{"role", "user"}, {"content", "What is 2+2?"}}}}};
  auto response = post_json(client, "/v1/messages", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const ordered_json body = ordered_json::parse(response->body);
  ASSERT_EQ(body["content"].size(), 2u) << body.dump();
  EXPECT_EQ(body["content"][0]["type"], "thinking");
  EXPECT_EQ(body["content"][0]["thinking"], "Two plus two.");
  EXPECT_EQ(body["content"][1]["text"], "It is 4.");
  EXPECT_EQ(body["stop_reason"], "end_turn");

  request["stream"] = true;
  request["tools"] = {{{"name", "get_weather"}, {"input_schema", kTools[0]["function"]["parameters"]}}};
  response = post_json(client, "/v1/messages", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  std::string thinking, text, stop_reason;
  std::vector<std::string> tools;
  for (const ordered_json& event : sse_payloads(response->body)) {
    if (event["type"] == "content_block_delta") {
      const ordered_json& delta = event["delta"];
      if (delta["type"] == "thinking_delta") thinking += delta["thinking"].get<std::string>();
      if (delta["type"] == "text_delta") text += delta["text"].get<std::string>();
    }
    if (event["type"] == "content_block_start" && event["content_block"]["type"] == "tool_use") {
      const std::string id = event["content_block"]["id"];
      EXPECT_EQ(id.rfind("toolu_", 0), 0u);
      tools.push_back(event["content_block"]["name"]);
    }
    if (event["type"] == "message_delta") stop_reason = event["delta"]["stop_reason"];
  }
  EXPECT_EQ(thinking, "Two cities, two calls.");
  EXPECT_EQ(text, "Checking both.");
  EXPECT_EQ(tools, (std::vector<std::string>{"get_weather", "get_weather"}));
  EXPECT_EQ(stop_reason, "tool_use");
  EXPECT_NE(response->body.find("event: message_stop"), std::string::npos);

  response = post_json(client, "/v1/messages/count_tokens",
                       {{"model", kModelName}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_GT(ordered_json::parse(response->body)["input_tokens"].get<int>(), 1);
}

TEST(ServerHttpOllama, ChatPlainAndStreamedGenerate) {
  TestServer server({kThinkingReply, "Plain words."});
  auto client = server.client();
  ordered_json request = {{"model", kModelName},
                          {"think", true},
                          {"stream", false},
                          {"messages", {{{"role", "user"}, {"content", "What is 2+2?"}}}}};
  auto response = post_json(client, "/api/chat", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const ordered_json body = ordered_json::parse(response->body);
  EXPECT_EQ(body["message"]["thinking"], "Two plus two.");
  EXPECT_EQ(body["message"]["content"], "It is 4.");
  EXPECT_EQ(body["done"], true);
  EXPECT_EQ(body["done_reason"], "stop");
  EXPECT_GT(body["prompt_eval_count"].get<int>(), 1);

  response = post_json(client, "/api/generate", {{"model", kModelName}, {"prompt", "Say something"}});
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/x-ndjson");
  std::string text;
  const std::vector<ordered_json> lines = ndjson_lines(response->body);
  ASSERT_FALSE(lines.empty());
  for (const ordered_json& line : lines) text += line.value("response", "");
  EXPECT_EQ(text, "Plain words.");
  EXPECT_EQ(lines.back()["done"], true);
  EXPECT_GT(lines.back()["eval_count"].get<int>(), 1);
}

}  // namespace
}  // namespace lightseek::server::testing

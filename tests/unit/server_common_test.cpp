#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "server/anthropic_protocol.h"
#include "server/json_body.h"
#include "server/ollama_protocol.h"
#include "server/openai_protocol.h"
#include "server/protocol_dispatch.h"
#include "server/response_ids.h"
#include "server_test_support.h"

namespace lightseek::server {
namespace {

using testing::fails_with;
using testing::fixed_meta;
using testing::has_id_shape;
using testing::json;
using nlohmann::ordered_json;

TEST(ServerJsonBody, MalformedBodiesAre400sWithAPosition) {
  EXPECT_TRUE(parse_json_body(R"({"model": "m"})").ok());
  const auto truncated = parse_json_body(R"({"model": )");
  ASSERT_TRUE(fails_with(truncated, 400, ""));
  EXPECT_NE(truncated.error().message.find("not valid JSON (byte "), std::string::npos) << truncated.error().message;
  EXPECT_TRUE(fails_with(parse_json_body(""), 400, ""));
  EXPECT_TRUE(fails_with(parse_json_body("[1, 2]"), 400, ""));
  EXPECT_TRUE(fails_with(parse_json_body("\"text\""), 400, ""));
  EXPECT_TRUE(fails_with(parse_json_body("{\"a\": \"\xC3\x28\"}"), 400, ""));   // invalid UTF-8
  EXPECT_TRUE(fails_with(parse_json_body(R"({"a": "\ud800"})"), 400, ""));      // lone surrogate
  EXPECT_TRUE(fails_with(parse_json_body(R"({"a": 1} trailing)"), 400, ""));
  // Deep nesting is refused before parsing; brackets inside strings do not count.
  const std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto refused = parse_json_body(deep);
  ASSERT_TRUE(fails_with(refused, 400, ""));
  EXPECT_NE(refused.error().message.find("deeper than 64"), std::string::npos);
  EXPECT_TRUE(parse_json_body("{\"a\": \"" + std::string(1000, '[') + "\"}").ok());
  EXPECT_TRUE(parse_json_body("{\"a\": \"\\\"[[[\"}", 2).ok());
}

TEST(ServerJsonBody, OutputReplacesInvalidUtf8InsteadOfThrowing) {
  ordered_json value{{"text", std::string("a\xFF")}};
  EXPECT_EQ(to_json_text(value), "{\"text\":\"a\xEF\xBF\xBD\"}");
}

TEST(ServerResponseIds, UniqueWellFormedAndFromTheWholeAlphabet) {
  std::set<std::string> ids;
  std::set<char> characters;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = new_tool_call_id(ApiProtocol::OpenAI);
    ASSERT_TRUE(has_id_shape(id, "call_"));
    ids.insert(id);
    characters.insert(id.begin() + 5, id.end());
  }
  EXPECT_EQ(ids.size(), 2000u);
  EXPECT_EQ(characters.size(), 62u);
  EXPECT_TRUE(has_id_shape(new_tool_call_id(ApiProtocol::Anthropic), "toolu_"));
  EXPECT_TRUE(has_id_shape(new_response_id(ApiEndpoint::OpenAIChatCompletions), "chatcmpl-"));
  EXPECT_TRUE(has_id_shape(new_response_id(ApiEndpoint::OpenAICompletions), "cmpl-"));
  EXPECT_TRUE(has_id_shape(new_response_id(ApiEndpoint::AnthropicMessages), "msg_"));
  EXPECT_EQ(new_response_id(ApiEndpoint::OllamaChat), "");
  EXPECT_EQ(random_base62(0), "");
  EXPECT_NE(random_seed(), random_seed());
}

TEST(ServerDispatch, RoutesByEndpointAndShapesErrorsPerProtocol) {
  const ordered_json chat = json(R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})");
  EXPECT_EQ(parse_generation_request(ApiEndpoint::OpenAIChatCompletions, chat)->endpoint,
            ApiEndpoint::OpenAIChatCompletions);
  EXPECT_EQ(parse_generation_request(ApiEndpoint::OllamaChat, chat)->endpoint, ApiEndpoint::OllamaChat);
  EXPECT_EQ(parse_generation_request(ApiEndpoint::AnthropicCountTokens, chat)->endpoint,
            ApiEndpoint::AnthropicCountTokens);
  EXPECT_TRUE(fails_with(parse_generation_request(ApiEndpoint::AnthropicMessages, chat), 400, "max_tokens"));
  EXPECT_TRUE(fails_with(parse_generation_request(ApiEndpoint::OpenAICompletions, chat), 400, "prompt"));
  EXPECT_EQ(parse_generation_request(ApiEndpoint::OllamaGenerate, json(R"({"model": "m", "prompt": "x"})"))->endpoint,
            ApiEndpoint::OllamaGenerate);

  const ProtocolError error = rate_limited("queue full");
  EXPECT_EQ(error.http_status, 429);
  EXPECT_EQ(error_body(ApiProtocol::OpenAI, error).dump(),
            R"({"error":{"message":"queue full","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}})");
  EXPECT_EQ(error_body(ApiProtocol::Anthropic, error).dump(),
            R"({"type":"error","error":{"type":"rate_limit_error","message":"queue full"}})");
  EXPECT_EQ(error_body(ApiProtocol::Ollama, error).dump(), R"({"error":"queue full"})");

  auto count = parse_generation_request(ApiEndpoint::AnthropicCountTokens, chat);
  GenerationOutcome outcome;
  outcome.usage.prompt_tokens = 9;
  EXPECT_EQ(response_body(*count, outcome, fixed_meta("")).dump(), R"({"input_tokens":9})");
  EXPECT_EQ(make_stream_formatter(*parse_generation_request(ApiEndpoint::OllamaChat, chat), fixed_meta(""))->content_type(),
            "application/x-ndjson");
}

TEST(ServerDispatch, FinishReasonsFromTheRuntime) {
  EXPECT_EQ(finish_reason_for(StopReason::StopToken, false), FinishReason::Stop);
  EXPECT_EQ(finish_reason_for(StopReason::StopToken, true), FinishReason::ToolCalls);
  EXPECT_EQ(finish_reason_for(StopReason::StopString, true), FinishReason::Stop);
  EXPECT_EQ(finish_reason_for(StopReason::MaxTokens, true), FinishReason::Length);
  EXPECT_EQ(finish_reason_for(StopReason::None, false), FinishReason::Cancelled);
  EXPECT_EQ(finish_reason_name(FinishReason::ToolCalls), "tool_calls");
}

// --- the same conversation through all three APIs ------------------------------------------

const char* const kOpenAITools = R"([{"type": "function", "function": {"name": "get_weather",
  "description": "Weather of a city", "parameters": {"type": "object", "properties": {
  "city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}])";

const char* const kAnthropicTools = R"([{"name": "get_weather", "description": "Weather of a city",
  "input_schema": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
  "required": ["city"]}}])";

std::string openai_prompt(bool thinking) {
  const std::string body = std::string(R"({"model": "m", "messages": [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {"role": "assistant", "content": "Checking both.", "reasoning_content": "Two cities, two calls.",
     "tool_calls": [
       {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 2}"}},
       {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\", \"days\": 2}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    {"role": "tool", "tool_call_id": "call_2", "content": "21C"},
    {"role": "user", "content": "Which is warmer?"}],
    "thinking": {"type": ")") + (thinking ? "enabled" : "disabled") + R"("},
    "tools": )" + kOpenAITools + "}";
  auto parsed = openai::parse_chat_request(json(body));
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? render_prompt(*parsed) : "";
}

std::string anthropic_prompt(bool thinking) {
  const std::string body = std::string(R"({"model": "m", "max_tokens": 4096, "system": "You are helpful.",
    "messages": [
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {"role": "assistant", "content": [
      {"type": "thinking", "thinking": "Two cities, two calls.", "signature": ""},
      {"type": "text", "text": "Checking both."},
      {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris", "days": 2}},
      {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome", "days": 2}}]},
    {"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
      {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "21C"}]},
      {"type": "text", "text": "Which is warmer?"}]}],
    "thinking": )") + (thinking ? R"({"type": "enabled", "budget_tokens": 1024})" : R"({"type": "disabled"})") +
                           R"(, "tools": )" + kAnthropicTools + "}";
  auto parsed = anthropic::parse_messages_request(json(body));
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? render_prompt(*parsed) : "";
}

std::string ollama_prompt(bool thinking) {
  const std::string body = std::string(R"({"model": "m", "messages": [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {"role": "assistant", "content": "Checking both.", "thinking": "Two cities, two calls.",
     "tool_calls": [
       {"function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}},
       {"function": {"name": "get_weather", "arguments": {"city": "Rome", "days": 2}}}]},
    {"role": "tool", "tool_name": "get_weather", "content": "18C"},
    {"role": "tool", "tool_name": "get_weather", "content": "21C"},
    {"role": "user", "content": "Which is warmer?"}],
    "think": )") + (thinking ? "true" : "false") + R"(, "tools": )" + kOpenAITools + "}";
  auto parsed = ollama::parse_chat_request(json(body));
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? render_prompt(*parsed) : "";
}

TEST(ServerReplay, ToolCallConversationsRenderByteIdenticallyAcrossApis) {
  for (const bool thinking : {false, true}) {
    const std::string prompt = openai_prompt(thinking);
    ASSERT_FALSE(prompt.empty());
    EXPECT_EQ(anthropic_prompt(thinking), prompt) << "thinking " << thinking;
    EXPECT_EQ(ollama_prompt(thinking), prompt) << "thinking " << thinking;
  }
  // What the prompt holds, spelled out once.
  const std::string prompt = openai_prompt(true);
  const std::string expected_turn =
      "<｜User｜>Weather in Paris and Rome?<｜Assistant｜><think>Two cities, two calls.</think>Checking both.\n\n"
      "<｜DSML｜tool_calls>\n"
      "<｜DSML｜invoke name=\"get_weather\">\n"
      "<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n"
      "<｜DSML｜invoke name=\"get_weather\">\n"
      "<｜DSML｜parameter name=\"city\" string=\"true\">Rome</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n"
      "</｜DSML｜tool_calls><｜end▁of▁sentence｜>"
      "<｜User｜><tool_result>18C</tool_result>\n\n<tool_result>21C</tool_result>\n\nWhich is warmer?"
      "<｜Assistant｜><think>";
  EXPECT_NE(prompt.find(expected_turn), std::string::npos) << prompt;
}

// A reply as each API returned it, sent back as the next turn's history, renders the same
// prompt whichever API carried it: the ids each API made up do not reach the prompt.
TEST(ServerReplay, RepliesSentBackAsHistoryRenderIdentically) {
  FinishedChoice reply;
  reply.reasoning = "Two cities, two calls.";
  reply.content = "Checking both.";
  for (const char* city : {"Paris", "Rome"}) {
    ToolCall call;
    call.name = "get_weather";
    call.arguments = ordered_json{{"city", city}, {"days", 2}};
    reply.tool_calls.push_back(call);
  }
  reply.finish_reason = FinishReason::ToolCalls;
  const GenerationOutcome outcome{{reply}, Usage{}};
  const ordered_json system = {{"role", "system"}, {"content", "You are helpful."}};
  const ordered_json question = {{"role", "user"}, {"content", "Weather in Paris and Rome?"}};

  // OpenAI
  auto first_openai = openai::parse_chat_request(json(R"({"model": "m", "messages": [{"role": "user", "content": "x"}],
      "thinking": {"type": "enabled"}})"));
  const ordered_json openai_reply = openai::response_body(*first_openai, outcome, fixed_meta("c"))["choices"][0]["message"];
  ordered_json openai_next = {{"model", "m"}, {"thinking", {{"type", "enabled"}}}, {"tools", json(kOpenAITools)}};
  openai_next["messages"] = {system, question, openai_reply};
  for (std::size_t i = 0; i < 2; ++i) {
    openai_next["messages"].push_back({{"role", "tool"},
                                       {"tool_call_id", openai_reply["tool_calls"][i]["id"]},
                                       {"content", i == 0 ? "18C" : "21C"}});
  }
  openai_next["messages"].push_back({{"role", "user"}, {"content", "Which is warmer?"}});
  auto openai_parsed = openai::parse_chat_request(openai_next);
  ASSERT_TRUE(openai_parsed.ok()) << openai_parsed.error().message;

  // Anthropic
  auto first_anthropic = anthropic::parse_messages_request(
      json(R"({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]})"));
  const ordered_json anthropic_content = anthropic::response_body(*first_anthropic, outcome, fixed_meta("msg"))["content"];
  ordered_json anthropic_next = {{"model", "m"},
                                 {"max_tokens", 4096},
                                 {"system", "You are helpful."},
                                 {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
                                 {"tools", json(kAnthropicTools)}};
  ordered_json results = ordered_json::array();
  for (std::size_t i = 0; i < 2; ++i) {
    results.push_back(
        {{"type", "tool_result"}, {"tool_use_id", anthropic_content[2 + i]["id"]}, {"content", i == 0 ? "18C" : "21C"}});
  }
  results.push_back({{"type", "text"}, {"text", "Which is warmer?"}});
  anthropic_next["messages"] = {question, {{"role", "assistant"}, {"content", anthropic_content}},
                                {{"role", "user"}, {"content", results}}};
  auto anthropic_parsed = anthropic::parse_messages_request(anthropic_next);
  ASSERT_TRUE(anthropic_parsed.ok()) << anthropic_parsed.error().message;

  // Ollama
  auto first_ollama = ollama::parse_chat_request(json(R"({"model": "m", "messages": [{"role": "user", "content": "x"}]})"));
  const ordered_json ollama_reply = ollama::response_body(*first_ollama, outcome, fixed_meta(""))["message"];
  ordered_json ollama_next = {{"model", "m"}, {"think", true}, {"tools", json(kOpenAITools)}};
  ollama_next["messages"] = {system, question, ollama_reply,
                             {{"role", "tool"}, {"content", "18C"}},
                             {{"role", "tool"}, {"content", "21C"}},
                             {{"role", "user"}, {"content", "Which is warmer?"}}};
  auto ollama_parsed = ollama::parse_chat_request(ollama_next);
  ASSERT_TRUE(ollama_parsed.ok()) << ollama_parsed.error().message;

  const std::string prompt = render_prompt(*openai_parsed);
  EXPECT_EQ(prompt, openai_prompt(true));
  EXPECT_EQ(render_prompt(*anthropic_parsed), prompt);
  EXPECT_EQ(render_prompt(*ollama_parsed), prompt);
}

// Mutated requests (values of the wrong type or range, removed and unknown keys, bad UTF-8)
// never escape as exceptions: each is accepted, renders and formats, or is a 400 with a message.
ordered_json mutate(ordered_json value, std::mt19937& random) {
  const std::vector<ordered_json> replacements = {nullptr, 0, -1, 1e300, 2.5, "", "x", std::string("\xFF"),
                                                  ordered_json::array(), ordered_json::object(), true,
                                                  ordered_json::array({1, "a"})};
  std::uniform_int_distribution<int> percent(0, 99);
  if (percent(random) < 8) return replacements[random() % replacements.size()];
  if (value.is_object()) {
    ordered_json out = ordered_json::object();
    for (auto member = value.begin(); member != value.end(); ++member) {
      if (percent(random) < 5) continue;  // drop the key
      out[member.key()] = mutate(member.value(), random);
    }
    if (percent(random) < 3) out["surprise"] = 1;
    return out;
  }
  if (value.is_array()) {
    ordered_json out = ordered_json::array();
    for (const ordered_json& element : value) out.push_back(mutate(element, random));
    return out;
  }
  return value;
}

TEST(ServerRobustness, MutatedRequestsAreAnsweredNeverThrown) {
  const std::vector<std::pair<ApiEndpoint, std::string>> bases = {
      {ApiEndpoint::OpenAIChatCompletions,
       R"({"model": "m", "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
           {"role": "assistant", "content": null, "reasoning_content": "r", "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": "{\"a\": 1}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "ok"}],
           "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
           "tool_choice": "auto", "thinking": {"type": "enabled"}, "reasoning_effort": "high", "temperature": 0.5,
           "top_p": 0.9, "n": 2, "seed": 1, "stop": ["x"], "max_tokens": 10, "logprobs": true, "top_logprobs": 2,
           "stream": true, "stream_options": {"include_usage": true}, "response_format": {"type": "json_object"}})"},
      {ApiEndpoint::OpenAICompletions, R"({"model": "m", "prompt": "Hi", "max_tokens": 5, "logprobs": 2, "stop": "x"})"},
      {ApiEndpoint::AnthropicMessages,
       R"({"model": "m", "max_tokens": 2000, "system": [{"type": "text", "text": "S"}], "messages": [
           {"role": "user", "content": "Hi"}, {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": ""},
           {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
           {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}],
           "tools": [{"name": "f", "input_schema": {"type": "object"}}], "tool_choice": {"type": "auto"},
           "thinking": {"type": "enabled", "budget_tokens": 1024}, "stop_sequences": ["x"], "stream": true})"},
      {ApiEndpoint::AnthropicCountTokens, R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})"},
      {ApiEndpoint::OllamaChat,
       R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "",
           "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}, {"role": "tool", "content": "ok"}],
           "tools": [{"type": "function", "function": {"name": "f"}}], "think": true, "format": "json",
           "options": {"temperature": 0.5, "num_predict": 5, "stop": ["x"], "seed": 3}})"},
      {ApiEndpoint::OllamaGenerate, R"({"model": "m", "prompt": "Hi", "system": "S", "raw": false, "think": false})"},
  };
  std::mt19937 random(12345);
  for (const auto& [endpoint, text] : bases) {
    const ordered_json base = json(text);
    ASSERT_TRUE(parse_generation_request(endpoint, base).ok()) << text;
    for (int round = 0; round < 300; ++round) {
      const ordered_json body = mutate(base, random);
      ProtocolResult<GenerationRequest> parsed = server_error("not run");
      ASSERT_NO_THROW(parsed = parse_generation_request(endpoint, body)) << body.dump();
      if (!parsed.ok()) {
        EXPECT_EQ(parsed.error().http_status, 400) << parsed.error().message << "\n" << body.dump();
        EXPECT_FALSE(parsed.error().message.empty());
        continue;
      }
      ASSERT_NO_THROW((void)render_prompt(*parsed)) << body.dump();
      FinishedChoice choice;
      choice.content = "x";
      const GenerationOutcome outcome{{choice}, Usage{}};
      ASSERT_NO_THROW((void)response_body(*parsed, outcome, fixed_meta("id"))) << body.dump();
      auto stream = make_stream_formatter(*parsed, fixed_meta("id"));
      ASSERT_NO_THROW((void)stream->write(ContentDelta{0, "x", {}}));
      ASSERT_NO_THROW((void)stream->write(StreamFinished{}));
    }
  }
}

}  // namespace
}  // namespace lightseek::server

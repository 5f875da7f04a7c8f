#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/ollama_protocol.h"
#include "server_test_support.h"

namespace lightseek::server {
namespace {

using testing::fails_with;
using testing::fixed_meta;
using testing::json;
using testing::weather_call;
using nlohmann::ordered_json;

TEST(ServerOllamaChat, EveryFieldReachesTheRequest) {
  const auto parsed = ollama::parse_chat_request(json(R"({
    "model": "deepseek-v4-flash",
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Weather in Paris?", "images": []},
      {"role": "assistant", "content": "", "thinking": "Need the tool.",
       "tool_calls": [{"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}]},
      {"role": "tool", "tool_name": "get_weather", "content": "18C"}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    "think": true, "format": "json", "keep_alive": "5m",
    "options": {"temperature": 0.7, "top_p": 0.8, "top_k": 30, "min_p": 0.05, "seed": 7, "num_predict": 64,
                "stop": ["###"], "repeat_penalty": 1.1, "num_ctx": 8192},
    "logprobs": true, "top_logprobs": 2
  })"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const GenerationRequest& request = *parsed;
  EXPECT_EQ(request.endpoint, ApiEndpoint::OllamaChat);
  EXPECT_EQ(request.protocol(), ApiProtocol::Ollama);
  ASSERT_EQ(request.messages.size(), 4u);
  EXPECT_EQ(request.messages[2].reasoning_content, "Need the tool.");
  ASSERT_EQ(request.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(request.messages[2].tool_calls[0].name, "get_weather");
  EXPECT_EQ(request.messages[2].tool_calls[0].arguments.dump(), R"({"city":"Paris"})");
  EXPECT_EQ(request.messages[3].role, "tool");
  EXPECT_EQ(request.thinking, ThinkingMode::Thinking);
  EXPECT_EQ(request.response_format.dump(), R"({"type":"json_object"})");
  EXPECT_FLOAT_EQ(request.sampling.temperature, 0.7f);
  EXPECT_FLOAT_EQ(request.sampling.top_p, 0.8f);
  EXPECT_EQ(request.sampling.top_k, 30);
  EXPECT_FLOAT_EQ(request.sampling.min_p, 0.05f);
  EXPECT_FLOAT_EQ(request.sampling.repetition_penalty, 1.1f);
  EXPECT_EQ(request.sampling.seed, 7u);
  EXPECT_TRUE(request.seed_from_client);
  EXPECT_EQ(request.max_tokens, 64);
  EXPECT_EQ(request.stop, std::vector<std::string>{"###"});
  EXPECT_TRUE(request.stream);  // Ollama streams unless told not to
  EXPECT_TRUE(request.logprobs.enabled);
  EXPECT_EQ(request.logprobs.top, 2);
  EXPECT_FALSE(request.load_only);
  EXPECT_NE(render_prompt(request).find("<tool_result>18C</tool_result>"), std::string::npos);

  auto schema = ollama::parse_chat_request(json(R"({"model": "m", "messages": [{"role": "user", "content": "x"}],
      "format": {"type": "object"}, "stream": false, "think": "high", "options": {"seed": -1, "num_predict": -1}})"));
  ASSERT_TRUE(schema.ok()) << schema.error().message;
  EXPECT_EQ(schema->response_format.dump(),
            R"({"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"}}})");
  EXPECT_FALSE(schema->stream);
  EXPECT_EQ(schema->thinking, ThinkingMode::Thinking);
  EXPECT_EQ(schema->effort, ReasoningEffort::High);
  EXPECT_FALSE(schema->seed_from_client);
  EXPECT_FALSE(schema->max_tokens);

  auto load = ollama::parse_chat_request(json(R"({"model": "m", "messages": []})"));
  ASSERT_TRUE(load.ok());
  EXPECT_TRUE(load->load_only);
}

TEST(ServerOllamaGenerate, ChatRenderedRawAndLoad) {
  auto chat = ollama::parse_generate_request(json(R"({"model": "m", "prompt": "Hi", "system": "S", "think": false})"));
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  EXPECT_EQ(chat->endpoint, ApiEndpoint::OllamaGenerate);
  EXPECT_EQ(render_prompt(*chat), "<｜begin▁of▁sentence｜>S<｜User｜>Hi<｜Assistant｜></think>");

  auto raw = ollama::parse_generate_request(json(R"({"model": "m", "prompt": "<｜User｜>x", "raw": true})"));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->raw_prompt, "<｜User｜>x");
  EXPECT_TRUE(raw->parses_output());

  auto load = ollama::parse_generate_request(json(R"({"model": "m"})"));
  ASSERT_TRUE(load.ok());
  EXPECT_TRUE(load->load_only);
  EXPECT_EQ(ollama::response_body(*load, GenerationOutcome{}, fixed_meta("")).dump(),
            R"({"model":"deepseek-v4-flash","created_at":"2023-11-14T22:13:20Z","response":"","done":true,)"
            R"("done_reason":"load"})");
}

TEST(ServerOllama, InvalidRequestsNameTheField) {
  struct Bad {
    const char* name;
    std::string body;
    std::string param;
  };
  const std::string chat = R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}], )";
  const std::vector<Bad> chat_cases = {
      {"model missing", R"({"messages": []})", "model"},
      {"unknown role", R"({"model": "m", "messages": [{"role": "robot", "content": "x"}]})", "messages[0].role"},
      {"content a number", R"({"model": "m", "messages": [{"role": "user", "content": 1}]})", "messages[0].content"},
      {"images", R"({"model": "m", "messages": [{"role": "user", "content": "x", "images": ["aGk="]}]})",
       "messages[0].images"},
      {"arguments not an object",
       R"({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": 3}}]}]})",
       "messages[0].tool_calls[0].function.arguments"},
      {"num_predict zero", chat + R"("options": {"num_predict": 0}})", "options.num_predict"},
      {"num_predict below -2", chat + R"("options": {"num_predict": -3}})", "options.num_predict"},
      {"unknown option", chat + R"("options": {"temprature": 1}})", "options.temprature"},
      {"temperature a string", chat + R"("options": {"temperature": "hot"}})", "options.temperature"},
      {"top_p above one", chat + R"("options": {"top_p": 2}})", "options.top_p"},
      {"stop empty", chat + R"("options": {"stop": [""]}})", "options.stop[0]"},
      {"think word", chat + R"("think": "extreme"})", "think"},
      {"format word", chat + R"("format": "xml"})", "format"},
      {"format number", chat + R"("format": 5})", "format"},
      {"stream a string", chat + R"("stream": "no"})", "stream"},
      {"unknown field", chat + R"("foo": true})", "foo"},
  };
  for (const Bad& bad : chat_cases) {
    EXPECT_TRUE(fails_with(ollama::parse_chat_request(json(bad.body)), 400, bad.param)) << bad.name;
  }
  const std::vector<Bad> generate_cases = {
      {"template", R"({"model": "m", "prompt": "x", "template": "{{ .Prompt }}"})", "template"},
      {"suffix", R"({"model": "m", "prompt": "x", "suffix": "y"})", "suffix"},
      {"context", R"({"model": "m", "prompt": "x", "context": [1, 2]})", "context"},
      {"raw with system", R"({"model": "m", "prompt": "x", "raw": true, "system": "s"})", "system"},
      {"prompt a number", R"({"model": "m", "prompt": 5})", "prompt"},
  };
  for (const Bad& bad : generate_cases) {
    EXPECT_TRUE(fails_with(ollama::parse_generate_request(json(bad.body)), 400, bad.param)) << bad.name;
  }
  EXPECT_EQ(*ollama::parse_show_request(json(R"({"model": "a"})")), "a");
  EXPECT_EQ(*ollama::parse_show_request(json(R"({"name": "b", "verbose": true})")), "b");
  EXPECT_TRUE(fails_with(ollama::parse_show_request(json(R"({})")), 400, "model"));
}

Usage timed_usage() {
  Usage usage;
  usage.prompt_tokens = 20;
  usage.cached_prompt_tokens = 8;
  usage.completion_tokens = 12;
  usage.load_ns = 1000;
  usage.prefill_ns = 2000;
  usage.decode_ns = 3000;
  return usage;
}

GenerationRequest chat_request(std::string_view extra = "") {
  std::string text = R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})";
  if (!extra.empty()) text = text.substr(0, text.size() - 1) + ", " + std::string(extra) + "}";
  auto parsed = ollama::parse_chat_request(json(text));
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return *parsed;
}

constexpr const char* kHead = R"({"model":"deepseek-v4-flash","created_at":"2023-11-14T22:13:20Z",)";
constexpr const char* kTimings = R"("total_duration":6000,"load_duration":1000,"prompt_eval_count":12,)"
                                 R"("prompt_eval_duration":2000,"eval_count":12,"eval_duration":3000})";

TEST(ServerOllamaChat, ResponseBodyWithTimings) {
  FinishedChoice choice;
  choice.reasoning = "Let me check.";
  choice.tool_calls = {weather_call()};
  choice.finish_reason = FinishReason::ToolCalls;
  EXPECT_EQ(ollama::response_body(chat_request(), GenerationOutcome{{choice}, timed_usage()}, fixed_meta("")).dump(),
            std::string(kHead) +
                R"("message":{"role":"assistant","content":"","thinking":"Let me check.","tool_calls":[)"
                R"({"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":true,"done_reason":"stop",)" +
                kTimings);

  auto generate = ollama::parse_generate_request(json(R"({"model": "m", "prompt": "Hi"})"));
  ASSERT_TRUE(generate.ok());
  FinishedChoice text;
  text.content = "Hello";
  text.finish_reason = FinishReason::Length;
  EXPECT_EQ(ollama::response_body(*generate, GenerationOutcome{{text}, timed_usage()}, fixed_meta("")).dump(),
            std::string(kHead) + R"("response":"Hello","done":true,"done_reason":"length",)" + kTimings);
}

TEST(ServerOllamaChat, NdjsonStream) {
  auto stream = ollama::make_stream_formatter(chat_request(), fixed_meta(""));
  EXPECT_EQ(stream->content_type(), "application/x-ndjson");
  std::string bytes;
  bytes += stream->write(StreamStarted{20, 8});
  bytes += stream->write(ReasoningDelta{0, "Hmm"});
  bytes += stream->write(ContentDelta{0, "Sure.", {}});
  bytes += stream->write(ToolCallCompleted{0, weather_call()});
  bytes += stream->write(ChoiceFinished{0, FinishReason::ToolCalls, std::nullopt});
  bytes += stream->write(StreamFinished{timed_usage()});
  EXPECT_TRUE(stream->finished());
  const std::string head = kHead;
  EXPECT_EQ(bytes,
            head + R"("message":{"role":"assistant","content":"","thinking":"Hmm"},"done":false})" + "\n" +  //
                head + R"("message":{"role":"assistant","content":"Sure."},"done":false})" + "\n" +          //
                head +
                R"("message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather",)"
                R"("arguments":{"city":"Paris"}}}]},"done":false})" +
                "\n" +  //
                head + R"("message":{"role":"assistant","content":""},"done":true,"done_reason":"stop",)" + kTimings +
                "\n");
}

TEST(ServerOllamaGenerate, NdjsonStreamWithLogprobsAndError) {
  auto generate = ollama::parse_generate_request(json(R"({"model": "m", "prompt": "Hi", "logprobs": true})"));
  ASSERT_TRUE(generate.ok());
  auto stream = ollama::make_stream_formatter(*generate, fixed_meta(""));
  EXPECT_EQ(stream->write(ContentDelta{0, "A", {TokenLogprob{"A", -0.5, {}}}}),
            std::string(kHead) +
                R"("response":"A","done":false,"logprobs":[{"token":"A","logprob":-0.5,"bytes":[65],"top_logprobs":[]}]})" +
                "\n");
  EXPECT_EQ(stream->write_error(server_error("boom")), "{\"error\":\"boom\"}\n");
  EXPECT_TRUE(stream->finished());
  EXPECT_EQ(ollama::error_body(model_not_found("x")).dump(), R"({"error":"model 'x' not found"})");
}

ModelFacts flash_facts() {
  ModelFacts facts;
  facts.name = "deepseek-v4-flash";
  facts.size_bytes = 159609485896;
  facts.parameter_count = 284000000000;
  facts.context_length = 65536;
  facts.quantization = "FP4+FP8";
  facts.digest = "abc123";
  facts.modified = std::chrono::system_clock::time_point(std::chrono::nanoseconds(1700000000123456000));
  return facts;
}

TEST(ServerOllamaModels, TagsShowPsVersion) {
  const std::string details = R"({"parent_model":"","format":"safetensors","family":"deepseek_v4",)"
                              R"("families":["deepseek_v4"],"parameter_size":"284B","quantization_level":"FP4+FP8"})";
  EXPECT_EQ(ollama::tags_body({flash_facts()}).dump(),
            R"({"models":[{"name":"deepseek-v4-flash","model":"deepseek-v4-flash",)"
            R"("modified_at":"2023-11-14T22:13:20.123456Z","size":159609485896,"digest":"abc123","details":)" +
                details + "}]}");
  EXPECT_EQ(ollama::show_body(flash_facts()).dump(),
            R"({"license":"","modelfile":"","parameters":"","template":"","details":)" + details +
                R"(,"model_info":{"general.architecture":"deepseek_v4","general.parameter_count":284000000000,)"
                R"("deepseek_v4.context_length":65536},"capabilities":["completion","tools","thinking"],)"
                R"("modified_at":"2023-11-14T22:13:20.123456Z"})");
  const auto expires = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
  EXPECT_EQ(ollama::ps_body({flash_facts()}, expires).dump(),
            R"({"models":[{"name":"deepseek-v4-flash","model":"deepseek-v4-flash","size":159609485896,)"
            R"("digest":"abc123","details":)" +
                details + R"(,"expires_at":"2027-01-15T08:00:00Z","size_vram":0,"context_length":65536}]})");
  EXPECT_EQ(ollama::version_body("0.1.0").dump(), R"({"version":"0.1.0"})");

  EXPECT_EQ(ollama::parameter_size_text(284000000000), "284B");
  EXPECT_EQ(ollama::parameter_size_text(1600000000000), "1.6T");
  EXPECT_EQ(ollama::parameter_size_text(8030261248), "8.0B");
  EXPECT_EQ(ollama::parameter_size_text(13500000), "13.5M");
  EXPECT_EQ(ollama::parameter_size_text(512), "512");
}

}  // namespace
}  // namespace lightseek::server

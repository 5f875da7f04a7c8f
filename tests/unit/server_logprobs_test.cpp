// Token logprobs end to end: the log-softmax and top-N selection of the model backend, their
// attribution to content deltas through the stop checker and parser, and what the OpenAI API
// returns for them, with the scripted backend (exact) and the built-in model (real forward).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/model_step_backend.h"
#include "server_http_support.h"

namespace lightseek::server {
namespace {

using testing::builtin_model;
using testing::kModelName;
using testing::ordered_json;
using testing::post_json;
using testing::sse_payloads;
using testing::TestServer;

TEST(ServerLogprobs, LogSoftmaxOfAKnownVector) {
  const std::vector<float> row = {1.0f, 2.0f, 3.0f, 0.0f};
  const double log_norm = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0) + std::exp(0.0));
  const StepLogprob result = token_logprobs(row, 1, 2);
  EXPECT_NEAR(result.logprob, 2.0 - log_norm, 1e-6);
  ASSERT_EQ(result.top.size(), 2u);
  EXPECT_EQ(result.top[0].first, 2);
  EXPECT_NEAR(result.top[0].second, 3.0 - log_norm, 1e-6);
  EXPECT_EQ(result.top[1].first, 1);
  EXPECT_NEAR(result.top[1].second, result.logprob, 1e-12);
}

TEST(ServerLogprobs, StableForLargeLogitsAndMaskedIds) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> row = {1000.0f, -inf, 1000.0f, 999.0f};
  const StepLogprob result = token_logprobs(row, 3, 0);
  const double expected = -1.0 - std::log(2.0 + std::exp(-1.0));
  EXPECT_NEAR(result.logprob, expected, 1e-5);
  EXPECT_TRUE(result.top.empty());
  EXPECT_EQ(token_logprobs(row, 1, 0).logprob, -std::numeric_limits<double>::infinity());
}

TEST(ServerLogprobs, TopTiesGoToTheLowerIdAndCountIsCapped) {
  const std::vector<float> row = {0.5f, 2.0f, 0.5f, 2.0f, 0.5f};
  const StepLogprob result = token_logprobs(row, 0, 3);
  ASSERT_EQ(result.top.size(), 3u);
  EXPECT_EQ(result.top[0].first, 1);
  EXPECT_EQ(result.top[1].first, 3);
  EXPECT_EQ(result.top[2].first, 0);
  EXPECT_EQ(token_logprobs(row, 0, 20).top.size(), row.size());
}

ordered_json chat_with_logprobs(bool stream) {
  return {{"model", kModelName},
          {"messages", ordered_json::array({{{"role", "user"}, {"content", "hi"}}})},
          {"logprobs", true},
          {"top_logprobs", 2},
          {"stream", stream}};
}

// The tokens' bytes joined; a token ending inside a UTF-8 character has a lossy `token`
// string, so `bytes` is what concatenates exactly. Also checks that the `token` strings
// concatenate to the same text whenever every token holds whole characters.
std::string joined_tokens(const ordered_json& entries) {
  std::string text;
  std::string strings;
  bool whole = true;
  for (const auto& entry : entries) {
    for (const auto& byte : entry.at("bytes")) text.push_back(static_cast<char>(byte.get<int>()));
    const std::string token = entry.at("token").get<std::string>();
    if (token.find("\xEF\xBF\xBD") != std::string::npos) whole = false;
    strings += token;
  }
  if (whole) {
    EXPECT_EQ(strings, text);
  }
  return text;
}

void expect_scripted_entries(const ordered_json& entries) {
  for (const auto& entry : entries) {
    EXPECT_EQ(entry.at("logprob").get<double>(), 0.0);
    ASSERT_EQ(entry.at("top_logprobs").size(), 1u);
    EXPECT_EQ(entry["top_logprobs"][0].at("token"), entry.at("token"));
    EXPECT_EQ(entry["top_logprobs"][0].at("logprob").get<double>(), 0.0);
  }
}

TEST(ServerLogprobs, ChatContentTokensConcatenateToTheContent) {
  // Reasoning and the </think> markup are skipped; only content tokens are reported.
  TestServer server({"Let me think.</think>Hello, wörld! 你好"});
  auto client = server.client();
  ordered_json request = chat_with_logprobs(false);
  request["thinking"] = {{"type", "enabled"}};
  auto response = post_json(client, "/v1/chat/completions", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const auto body = ordered_json::parse(response->body);
  EXPECT_EQ(body["choices"][0]["message"]["reasoning_content"], "Let me think.");
  const std::string content = body["choices"][0]["message"]["content"].get<std::string>();
  EXPECT_NE(content.find("Hello, wörld! 你好"), std::string::npos);
  const auto& entries = body["choices"][0]["logprobs"]["content"];
  ASSERT_TRUE(entries.is_array());
  EXPECT_GT(entries.size(), 3u);
  EXPECT_EQ(joined_tokens(entries), content);
  expect_scripted_entries(entries);
}

TEST(ServerLogprobs, StreamedDeltasCarryTheLogprobsOfTheirText) {
  TestServer server({"Hello, wörld! 你好 stop here"});
  auto client = server.client();
  ordered_json request = chat_with_logprobs(true);
  request["stop"] = ordered_json::array({" stop"});
  auto response = post_json(client, "/v1/chat/completions", request);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  std::string content;
  std::string tokens;
  std::size_t count = 0;
  for (const auto& chunk : sse_payloads(response->body)) {
    if (chunk["choices"].empty()) continue;
    const auto& choice = chunk["choices"][0];
    const std::string text = choice["delta"].value("content", "");
    content += text;
    if (!choice["logprobs"].is_null()) {
      const auto& entries = choice["logprobs"]["content"];
      expect_scripted_entries(entries);
      tokens += joined_tokens(entries);
      count += entries.size();
    }
    // Logprobs come only with the text their tokens produced.
    if (!choice["logprobs"].is_null() && !choice["logprobs"]["content"].empty()) {
      EXPECT_FALSE(text.empty());
    }
  }
  EXPECT_EQ(content, "Hello, wörld! 你好");
  EXPECT_EQ(tokens, content);
  EXPECT_GT(count, 3u);
}

TEST(ServerLogprobs, BuiltinModelLogprobsAreADistribution) {
  const auto& model = builtin_model();
  ModelStepBackend backend(*model.transformer, *model.tokenizer, model.eos_id);
  HttpServerOptions options;
  options.port = 0;
  options.log_requests = false;
  options.shutdown_grace = std::chrono::milliseconds(0);
  HttpServer server(served_model(model, "", options.context_tokens), backend, options);
  const int port = server.bind();
  std::thread thread([&] { server.serve(); });
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  ordered_json request = {{"model", kModelName},
                          {"prompt", "The quick brown fox"},
                          {"max_tokens", 8},
                          {"logprobs", 5},
                          {"temperature", 0.8},
                          {"seed", 7}};
  auto completion = post_json(client, "/v1/completions", request);
  ordered_json chat = chat_with_logprobs(false);
  chat["top_logprobs"] = 5;
  chat["max_tokens"] = 8;
  auto response = post_json(client, "/v1/chat/completions", chat);
  server.shutdown();
  thread.join();

  ASSERT_TRUE(completion);
  ASSERT_EQ(completion->status, 200) << completion->body;
  const auto legacy = ordered_json::parse(completion->body)["choices"][0]["logprobs"];
  ASSERT_FALSE(legacy["token_logprobs"].empty()) << completion->body;
  for (const auto& value : legacy["token_logprobs"]) EXPECT_LE(value.get<double>(), 0.0);

  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const auto body = ordered_json::parse(response->body);
  const auto& entries = body["choices"][0]["logprobs"]["content"];
  ASSERT_TRUE(entries.is_array()) << response->body;
  EXPECT_FALSE(entries.empty()) << response->body;
  for (const auto& entry : entries) {
    const double logprob = entry.at("logprob").get<double>();
    EXPECT_LE(logprob, 0.0);
    const auto& top = entry.at("top_logprobs");
    ASSERT_EQ(top.size(), 5u);
    double sum = 0.0;
    for (std::size_t i = 0; i < top.size(); ++i) {
      const double value = top[i].at("logprob").get<double>();
      EXPECT_LE(value, 0.0);
      sum += std::exp(value);
      if (i > 0) {
        EXPECT_GE(top[i - 1].at("logprob").get<double>(), value);
      }
      if (top[i].at("bytes") == entry.at("bytes")) {
        EXPECT_NEAR(value, logprob, 1e-9);
      }
    }
    EXPECT_LE(sum, 1.0 + 1e-6);
  }
}

}  // namespace
}  // namespace lightseek::server

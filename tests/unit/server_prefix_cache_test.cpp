// Prefix reuse through the server on the built-in model with exact numerics: multi-turn chats
// answered byte-identically with the cache on and off, the reuse reported in each API's usage
// and in /metrics, and a restarted server resuming from its cache directory.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/loaded_model.h"
#include "runtime/prefix_cache.h"
#include "runtime/prefix_checkpoints.h"
#include "server/http_server.h"
#include "server/model_step_backend.h"
#include "server/served_model.h"
#include "server_http_support.h"

namespace lightseek::server {
namespace {

using nlohmann::ordered_json;
using testing::kModelName;
using testing::ModelTestServer;
using testing::post_json;

ordered_json greedy_chat(const ordered_json& messages, bool thinking) {
  return {{"model", kModelName},
          {"messages", messages},
          {"max_tokens", 12},
          {"temperature", 0},
          {"thinking", {{"type", thinking ? "enabled" : "disabled"}}}};
}

struct Turn {
  std::string content;
  std::string reasoning;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
};

// A conversation of `turns` user messages; each reply is sent back as the assistant's message.
std::vector<Turn> converse(ModelTestServer& server, int turns, bool thinking) {
  ordered_json messages = ordered_json::array();
  messages.push_back({{"role", "system"}, {"content", "You are terse."}});
  std::vector<Turn> out;
  for (int turn = 0; turn < turns; ++turn) {
    messages.push_back({{"role", "user"}, {"content", "Question number " + std::to_string(turn) + ": why?"}});
    const ordered_json body = server.post("/v1/chat/completions", greedy_chat(messages, thinking));
    const ordered_json& message = body["choices"][0]["message"];
    Turn result;
    result.content = message.value("content", "");
    result.reasoning = message.value("reasoning_content", "");
    result.prompt_tokens = body["usage"]["prompt_tokens"];
    result.cached_tokens = body["usage"]["prompt_tokens_details"]["cached_tokens"];
    out.push_back(result);
    ordered_json reply = {{"role", "assistant"}, {"content", result.content}};
    if (!result.reasoning.empty()) reply["reasoning_content"] = result.reasoning;
    messages.push_back(reply);
  }
  return out;
}

TEST(ServerPrefixCache, MultiTurnChatsAreByteIdenticalWithTheCacheOnAndOff) {
  for (bool thinking : {false, true}) {
    SCOPED_TRACE(thinking ? "thinking" : "chat");
    std::vector<Turn> cached, uncached;
    PrefixCacheStats stats;
    {
      ModelTestServer server(true);
      cached = converse(server, 3, thinking);
      stats = server.cache_stats();
    }
    {
      ModelTestServer server(false);
      uncached = converse(server, 3, thinking);
    }
    ASSERT_EQ(cached.size(), uncached.size());
    for (size_t turn = 0; turn < cached.size(); ++turn) {
      SCOPED_TRACE("turn " + std::to_string(turn));
      EXPECT_EQ(cached[turn].content, uncached[turn].content);
      EXPECT_EQ(cached[turn].reasoning, uncached[turn].reasoning);
      EXPECT_EQ(cached[turn].prompt_tokens, uncached[turn].prompt_tokens);
      EXPECT_EQ(uncached[turn].cached_tokens, 0);
      if (turn == 0) {
        EXPECT_EQ(cached[turn].cached_tokens, 0);
      } else {
        // Everything before the previous turn's "<｜Assistant｜>" at least.
        EXPECT_GT(cached[turn].cached_tokens, cached[turn - 1].prompt_tokens / 2);
        EXPECT_LT(cached[turn].cached_tokens, cached[turn].prompt_tokens);
      }
    }
    EXPECT_EQ(stats.hits, 2u);
    EXPECT_EQ(stats.misses, 1u);
    EXPECT_GT(stats.reused_tokens, 0u);
    EXPECT_GT(stats.bytes, 0u);
  }
}

TEST(ServerPrefixCache, ARepeatedPromptIsAnsweredFromTheCacheAndReportedByEveryApi) {
  ModelTestServer server(true);
  const ordered_json messages = {{{"role", "user"}, {"content", "Tell me a story."}}};
  const ordered_json first = server.post("/v1/chat/completions", greedy_chat(messages, false));
  const ordered_json again = server.post("/v1/chat/completions", greedy_chat(messages, false));
  EXPECT_EQ(first["choices"][0]["message"], again["choices"][0]["message"]);
  EXPECT_EQ(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(again["usage"]["prompt_tokens_details"]["cached_tokens"], again["usage"]["prompt_tokens"]);

  const ordered_json anthropic = server.post(
      "/v1/messages", {{"model", kModelName}, {"max_tokens", 12}, {"temperature", 0}, {"messages", messages}});
  const int64_t read = anthropic["usage"]["cache_read_input_tokens"];
  EXPECT_GT(read, 0);

  const ordered_json ollama = server.post(
      "/api/chat", {{"model", kModelName}, {"messages", messages}, {"stream", false}, {"options", {{"temperature", 0}, {"num_predict", 12}}}});
  // Ollama reports the prompt tokens it evaluated: those the cache did not hold.
  EXPECT_LT(ollama["prompt_eval_count"].get<int64_t>(), again["usage"]["prompt_tokens"].get<int64_t>());
}

TEST(ServerPrefixCache, ConversationsWithTheSameSystemPromptReuseItAndAnswerAsWithoutTheCache) {
  const std::string system =
      "You are the support assistant of a small bakery. Answer in one short sentence, in English, "
      "politely, and never invent prices, opening hours or ingredients that you were not told about.";
  const std::vector<std::string> questions = {"Do you sell rye bread?", "When do you open on Sunday?",
                                              "Is the cheesecake gluten free?"};
  auto ask = [&](ModelTestServer& server, const std::string& question) {
    const ordered_json messages = {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", question}}};
    return server.post("/v1/chat/completions", greedy_chat(messages, false));
  };
  std::vector<ordered_json> cached, uncached;
  {
    ModelTestServer server(true);
    for (const std::string& question : questions) cached.push_back(ask(server, question));
  }
  {
    ModelTestServer server(false);
    for (const std::string& question : questions) uncached.push_back(ask(server, question));
  }
  for (size_t i = 0; i < questions.size(); ++i) {
    SCOPED_TRACE(questions[i]);
    EXPECT_EQ(cached[i]["choices"][0]["message"], uncached[i]["choices"][0]["message"]);
    const int64_t reused = cached[i]["usage"]["prompt_tokens_details"]["cached_tokens"];
    const int64_t prompt = cached[i]["usage"]["prompt_tokens"];
    if (i == 0) {
      EXPECT_EQ(reused, 0);
      continue;
    }
    // The system prompt, up to the first "<｜User｜>", and not the question.
    EXPECT_GE(reused, kShortestCheckpoint);
    EXPECT_LE(reused, prompt - 6);
    EXPECT_EQ(reused, cached[1]["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>());
  }
}

TEST(ServerPrefixCache, ARestartedServerResumesAConversationFromItsCacheDirectory) {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() /
      ("lightseek-serve-cache-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(directory);
  const ordered_json messages = {{{"role", "user"}, {"content", "Remember this: 42."}}};
  ordered_json first;
  {
    ModelTestServer server(true, directory);
    first = server.post("/v1/chat/completions", greedy_chat(messages, false));
  }
  ModelTestServer restarted(true, directory);
  EXPECT_GT(restarted.cache_stats().disk_entries, 0u);
  const ordered_json again = restarted.post("/v1/chat/completions", greedy_chat(messages, false));
  EXPECT_EQ(first["choices"][0]["message"], again["choices"][0]["message"]);
  EXPECT_EQ(again["usage"]["prompt_tokens_details"]["cached_tokens"], again["usage"]["prompt_tokens"]);
  EXPECT_EQ(restarted.cache_stats().disk_loads, 1u);
  std::filesystem::remove_all(directory);
}

// With --kv-cache fp8 the cached states hold FP8 entries and FP4 index keys: written to disk, read
// back by a restarted server, and the prompt answered from them. (Not compared with an uncached
// answer: under fast numerics a different split of the prompt takes other kernels, and a float32
// difference may cross an FP8 rounding boundary.)
TEST(ServerPrefixCache, AnFp8KvCacheStateSurvivesARestart) {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() /
      ("lightseek-serve-cache-fp8-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(directory);
  const SequenceState layout = ModelTestServer::builtin_model_with_fp8_kv().transformer->new_sequence();
  ASSERT_EQ(layout.layers[1].entries.format(), KvRowFormat::Fp8Blocks64);
  ASSERT_EQ(layout.layers[1].index_keys.format(), KvRowFormat::Fp4Blocks32);
  // Long enough for compressed entries and index keys (the built-in model's ratios are 4 and 16).
  const ordered_json messages = {
      {{"role", "user"}, {"content", "Remember these numbers, all of them, in this order: 4, 8, 15, 16, 23, 42, 108."}}};
  {
    ModelTestServer server(true, directory, Numerics::Fast, /*kv_fp8=*/true);
    const ordered_json first = server.post("/v1/chat/completions", greedy_chat(messages, false));
    ASSERT_GT(first["usage"]["prompt_tokens"].get<int64_t>(), 32);
  }
  ModelTestServer restarted(true, directory, Numerics::Fast, /*kv_fp8=*/true);
  EXPECT_GT(restarted.cache_stats().disk_entries, 0u);
  const ordered_json again = restarted.post("/v1/chat/completions", greedy_chat(messages, false));
  EXPECT_EQ(again["usage"]["prompt_tokens_details"]["cached_tokens"], again["usage"]["prompt_tokens"]);
  EXPECT_EQ(again["usage"]["completion_tokens"].get<int64_t>(),
            again["usage"]["total_tokens"].get<int64_t>() - again["usage"]["prompt_tokens"].get<int64_t>());
  EXPECT_EQ(restarted.cache_stats().disk_loads, 1u);
  // A server with float32 KV rows does not take these states: another identity and layout.
  ModelTestServer plain(true, directory, Numerics::Fast);
  EXPECT_EQ(plain.cache_stats().disk_entries, 0u);
  EXPECT_GE(plain.cache_stats().disk_rejected, 1u);  // ignored and kept, not deleted
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace lightseek::server

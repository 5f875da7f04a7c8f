// `lightseek serve` as an operated service: auth, errors in each API's shape, limits, the
// queue, cancellation, metrics, tokenize, shutdown, and the scripted file's checks.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "server_http_support.h"

namespace lightseek::server::testing {
namespace {

// A reply long enough to still be generating while the test looks at the server.
std::string long_reply() {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "word ";
  return text;
}

const ordered_json kOpenAIChat = {{"model", kModelName}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
const ordered_json kAnthropicChat = {
    {"model", kModelName}, {"max_tokens", 16}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
const ordered_json kOllamaChat = {
    {"model", kModelName}, {"stream", false}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};

TEST(ServerHttpOperations, ApiKeyIsRequiredInEachApisShapeExceptForHealth) {
  TestServer server({"ok"}, [](HttpServerOptions& o) { o.api_key = "sesame"; });
  auto client = server.client();
  auto openai = post_json(client, "/v1/chat/completions", kOpenAIChat);
  ASSERT_TRUE(openai);
  EXPECT_EQ(openai->status, 401);
  EXPECT_EQ(ordered_json::parse(openai->body)["error"]["type"], "authentication_error");
  auto anthropic = post_json(client, "/v1/messages", kAnthropicChat, {{"x-api-key", "wrong"}});
  ASSERT_TRUE(anthropic);
  EXPECT_EQ(anthropic->status, 401);
  EXPECT_EQ(ordered_json::parse(anthropic->body)["type"], "error");
  auto ollama = post_json(client, "/api/chat", kOllamaChat);
  ASSERT_TRUE(ollama);
  EXPECT_EQ(ollama->status, 401);
  EXPECT_TRUE(ordered_json::parse(ollama->body)["error"].is_string());
  EXPECT_EQ(client.Get("/metrics")->status, 401);
  EXPECT_EQ(client.Get("/health")->status, 200);

  auto bearer = post_json(client, "/v1/chat/completions", kOpenAIChat, {{"Authorization", "Bearer sesame"}});
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200) << bearer->body;
  auto header = post_json(client, "/v1/messages", kAnthropicChat, {{"x-api-key", "sesame"}});
  ASSERT_TRUE(header);
  EXPECT_EQ(header->status, 200) << header->body;
}

TEST(ServerHttpOperations, UnknownRoutesWrongMethodsAndHugeBodies) {
  TestServer server({"ok"}, [](HttpServerOptions& o) { o.max_body_bytes = 1 << 16; });
  auto client = server.client();
  auto missing = client.Get("/v1/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(ordered_json::parse(missing->body)["error"]["message"].get<std::string>().find("/v1/nothing"),
            std::string::npos);
  auto wrong = client.Get("/v1/chat/completions");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->get_header_value("Allow"), "POST");
  EXPECT_TRUE(ordered_json::parse(wrong->body)["error"]["message"].is_string());

  const std::string huge = "{\"model\": \"" + std::string(1 << 17, 'x') + "\"}";
  auto too_large = client.Post("/api/chat", huge, "application/json");
  ASSERT_TRUE(too_large);
  EXPECT_EQ(too_large->status, 413);
  EXPECT_TRUE(ordered_json::parse(too_large->body)["error"].is_string());
  EXPECT_EQ(client.Get("/health")->status, 200);
}

TEST(ServerHttpOperations, MalformedJsonAndUnknownModelsAre4xxInEachShape) {
  TestServer server({"ok"});
  auto client = server.client();
  auto openai = client.Post("/v1/chat/completions", "{\"model\": ", "application/json");
  ASSERT_TRUE(openai);
  EXPECT_EQ(openai->status, 400);
  EXPECT_EQ(ordered_json::parse(openai->body)["error"]["type"], "invalid_request_error");
  auto anthropic = client.Post("/v1/messages", "[1, 2", "application/json");
  ASSERT_TRUE(anthropic);
  EXPECT_EQ(anthropic->status, 400);
  EXPECT_EQ(ordered_json::parse(anthropic->body)["error"]["type"], "invalid_request_error");
  auto ollama = client.Post("/api/generate", "not json", "application/json");
  ASSERT_TRUE(ollama);
  EXPECT_EQ(ollama->status, 400);
  EXPECT_TRUE(ordered_json::parse(ollama->body)["error"].is_string());

  ordered_json other = kOpenAIChat;
  other["model"] = "gpt-4";
  auto unknown = post_json(client, "/v1/chat/completions", other);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(ordered_json::parse(unknown->body)["error"]["param"], "model");
}

TEST(ServerHttpOperations, FullQueueAnswers429WithRetryAfter) {
  TestServer server(
      {long_reply()},
      [](HttpServerOptions& o) {
        o.scheduler.parallel = 1;
        o.scheduler.queue = 1;
      },
      std::chrono::milliseconds(5));
  ordered_json streamed = kOpenAIChat;
  streamed["stream"] = true;
  std::atomic<int> answered{0};
  auto send = [&] {
    auto client = server.client();
    post_json(client, "/v1/chat/completions", streamed);
    ++answered;
  };
  std::thread running(send);
  ASSERT_TRUE(TestServer::eventually([&] { return server.metric("lightseek_running_sequences") == 1; }));
  std::thread waiting(send);
  ASSERT_TRUE(TestServer::eventually([&] { return server.metric("lightseek_queue_depth") == 1; }));

  auto client = server.client();
  auto refused = post_json(client, "/v1/chat/completions", kOpenAIChat);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->get_header_value("Retry-After"), "1");
  EXPECT_EQ(ordered_json::parse(refused->body)["error"]["type"], "rate_limit_error");

  server.stop();  // cancels the running request, refuses the waiting one
  running.join();
  waiting.join();
  EXPECT_EQ(answered, 2);
}

// A connected socket to the loopback port, or -1.
int connect_to(int port) {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  if (sock < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(sock);
    return -1;
  }
  return sock;
}

// A raw connection that has sent one chat request: the test decides when to hang up.
int send_raw_chat(int port, const ordered_json& chat) {
  const std::string body = chat.dump();
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const int sock = connect_to(port);
  if (sock < 0) return -1;
  if (::send(sock, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    ::close(sock);
    return -1;
  }
  return sock;
}

TEST(ServerHttpOperations, ClientThatDisconnectsCancelsItsSequence) {
  TestServer server({long_reply()}, {}, std::chrono::milliseconds(5));
  ordered_json streamed = kOpenAIChat;
  streamed["stream"] = true;
  // Read the start of the stream, then hang up.
  const int sock = send_raw_chat(server.port(), streamed);
  ASSERT_GE(sock, 0);
  std::string received;
  char buffer[4096];
  while (received.find("\"delta\"") == std::string::npos) {
    const ssize_t got = ::recv(sock, buffer, sizeof buffer, 0);
    ASSERT_GT(got, 0);
    received.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(sock);
  const auto hung_up = std::chrono::steady_clock::now();
  EXPECT_TRUE(TestServer::eventually([&] {
    return server.metric("lightseek_cancelled_sequences_total") == 1 && server.metric("lightseek_running_sequences") == 0;
  }));
  // Well before the reply would have ended on its own (400 words at 5 ms per token).
  EXPECT_LT(std::chrono::steady_clock::now() - hung_up, std::chrono::seconds(1));
}

TEST(ServerHttpOperations, ClientThatDisconnectsFromAWholeReplyCancelsItsSequence) {
  TestServer server({long_reply()}, {}, std::chrono::milliseconds(5));
  const int sock = send_raw_chat(server.port(), kOpenAIChat);  // not streamed: nothing arrives before the end
  ASSERT_GE(sock, 0);
  ASSERT_TRUE(TestServer::eventually([&] { return server.metric("lightseek_running_sequences") == 1; }));
  ::close(sock);
  const auto hung_up = std::chrono::steady_clock::now();
  EXPECT_TRUE(TestServer::eventually([&] {
    return server.metric("lightseek_cancelled_sequences_total") == 1 && server.metric("lightseek_running_sequences") == 0;
  }));
  EXPECT_LT(std::chrono::steady_clock::now() - hung_up, std::chrono::seconds(1));
  // The server goes on serving on other connections.
  ordered_json short_chat = kOpenAIChat;
  short_chat["max_tokens"] = 4;
  auto client = server.client();
  auto response = post_json(client, "/v1/chat/completions", short_chat);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(ServerHttpOperations, MetricsCountRequestsAndTokens) {
  TestServer server({"It is 4."});
  auto client = server.client();
  EXPECT_EQ(server.metric("lightseek_generated_tokens_total"), 0);
  auto response = post_json(client, "/v1/chat/completions", kOpenAIChat);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  const ordered_json usage = ordered_json::parse(response->body)["usage"];
  EXPECT_TRUE(TestServer::eventually([&] {
    return server.metric("lightseek_requests_total{route=\"/v1/chat/completions\",status=\"200\"}") == 1;
  }));
  EXPECT_EQ(server.metric("lightseek_generated_tokens_total"), usage["completion_tokens"].get<double>());
  EXPECT_EQ(server.metric("lightseek_prompt_tokens_total"), usage["prompt_tokens"].get<double>());
  EXPECT_GE(server.metric("lightseek_request_duration_seconds_count"), 2);  // the chat and a /metrics read
  EXPECT_EQ(server.metric("lightseek_prefix_cache_hits_total"), 0);
  EXPECT_GE(server.metric("lightseek_queue_depth"), 0);
}

TEST(ServerHttpOperations, TokenizeRoundTripAndListings) {
  TestServer server({"ok"});
  auto client = server.client();
  const std::string text = "Hello, wörld! <｜User｜>";
  auto tokens = post_json(client, "/tokenize", {{"content", text}});
  ASSERT_TRUE(tokens);
  ASSERT_EQ(tokens->status, 200) << tokens->body;
  const ordered_json ids = ordered_json::parse(tokens->body)["tokens"];
  EXPECT_EQ(ids.get<std::vector<int32_t>>(), builtin_model().tokenizer->encode(text));
  auto back = post_json(client, "/detokenize", {{"tokens", ids}});
  ASSERT_TRUE(back);
  EXPECT_EQ(ordered_json::parse(back->body)["content"], text);
  auto bad = post_json(client, "/detokenize", {{"tokens", {-1}}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  EXPECT_EQ(ordered_json::parse(client.Get("/v1/models")->body)["data"][0]["id"], kModelName);
  EXPECT_EQ(ordered_json::parse(client.Get("/api/tags")->body)["models"][0]["name"], kModelName);
  EXPECT_EQ(ordered_json::parse(client.Get("/api/ps")->body)["models"][0]["name"], kModelName);
  EXPECT_TRUE(ordered_json::parse(client.Get("/api/version")->body)["version"].is_string());
  auto show = post_json(client, "/api/show", {{"model", kModelName}});
  ASSERT_TRUE(show);
  EXPECT_EQ(show->status, 200) << show->body;
}

TEST(ServerHttpOperations, ShutdownEndsInFlightStreamsCleanlyAndStopsListening) {
  TestServer server({long_reply()}, {}, std::chrono::milliseconds(5));
  ordered_json streamed = kOpenAIChat;
  streamed["stream"] = true;
  std::string body;
  std::thread streaming([&] {
    auto client = server.client();
    auto response = post_json(client, "/v1/chat/completions", streamed);
    if (response) body = response->body;
  });
  ASSERT_TRUE(TestServer::eventually([&] { return server.metric("lightseek_running_sequences") == 1; }));
  server.stop();
  streaming.join();
  EXPECT_TRUE(server.stopped());
  // The stream was finished, not cut: a last chunk with a finish reason, then [DONE].
  EXPECT_NE(body.find("\"finish_reason\":"), std::string::npos);
  EXPECT_NE(body.find("data: [DONE]"), std::string::npos);
  auto client = server.client();
  EXPECT_FALSE(client.Get("/health"));
}

// Everything a socket yields until the server closes it (at most 10 s).
std::string read_until_closed(int sock) {
  timeval timeout{10, 0};
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string received;
  char buffer[4096];
  while (true) {
    const ssize_t got = ::recv(sock, buffer, sizeof buffer, 0);
    if (got <= 0) break;
    received.append(buffer, static_cast<std::size_t>(got));
  }
  return received;
}

// A shutdown can come at any moment of a request's life, also between its admission and the
// stream's first write. The client then gets nothing, a whole refusal (a 503, or an error event
// in a stream that was queued), or a whole stream: never one that is cut.
TEST(ServerHttpOperations, ShutdownAtAnyMomentCutsNoStream) {
  ordered_json streamed = kOpenAIChat;
  streamed["stream"] = true;
  int whole_streams = 0;
  // The window between admission and the first write is a fraction of a millisecond here; the
  // sweep crosses it whatever the machine's speed.
  std::vector<int> delays_us;
  for (int delay = 0; delay <= 4000; delay += 40) delays_us.push_back(delay);
  for (int delay : {6000, 10000, 20000, 100000, 300000}) delays_us.push_back(delay);
  for (int delay_us : delays_us) {
    TestServer server({long_reply()}, {}, std::chrono::milliseconds(5));
    const int sock = send_raw_chat(server.port(), streamed);
    ASSERT_GE(sock, 0);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    server.stop();
    const std::string received = read_until_closed(sock);
    ::close(sock);
    SCOPED_TRACE("shutdown after " + std::to_string(delay_us) + " us: " + received.substr(0, 400));
    if (received.empty()) continue;
    if (received.starts_with("HTTP/1.1 200")) {
      EXPECT_TRUE(received.ends_with("\r\n0\r\n\r\n"));  // the chunked body's end marker
      if (received.find("the server is shutting down") != std::string::npos) continue;  // refused while queued
      ++whole_streams;
      EXPECT_NE(received.find("\"finish_reason\":\"stop\""), std::string::npos);
      EXPECT_NE(received.find("data: [DONE]"), std::string::npos);
    } else {
      EXPECT_TRUE(received.starts_with("HTTP/1.1 503")) << received;
      EXPECT_NE(received.find("shutting down"), std::string::npos);
    }
    if (HasFailure()) return;  // one window is enough to show
  }
  EXPECT_GT(whole_streams, 0);  // the late shutdowns find the stream running
}

// httplib closes only a socket it listens on; shut down before serving, the server must close
// its bound port itself, or connections would wait there unanswered.
TEST(ServerHttpOperations, AServerShutDownBeforeItServesClosesItsPort) {
  const LoadedTextModel& model = builtin_model();
  ScriptedStepBackend backend({"ok"}, *model.tokenizer, model.eos_id);
  HttpServerOptions options;
  options.port = 0;
  options.log_requests = false;
  HttpServer server(served_model(model, "", options.context_tokens), backend, options);
  const int port = server.bind();
  const int early = connect_to(port);  // the kernel accepts into the backlog once bound
  ASSERT_GE(early, 0);
  server.shutdown();
  server.serve();  // returns at once
  EXPECT_EQ(read_until_closed(early), "");  // reset, not left waiting
  ::close(early);
  EXPECT_LT(connect_to(port), 0);
}

TEST(ServerHttpOperations, ScriptedFileIsCheckedAtStartup) {
  const auto dir = std::filesystem::temp_directory_path() / ("lightseek_scripted_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  };
  EXPECT_THROW(load_scripted_completions(dir / "missing.jsonl"), Error);
  EXPECT_THROW(load_scripted_completions(write("empty.jsonl", "\n\n")), Error);
  try {
    load_scripted_completions(write("bad.jsonl", "\"fine\"\n{\"not\": \"a string\"}\n"));
    ADD_FAILURE() << "accepted an object";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("bad.jsonl:2"), std::string::npos) << error.what();
  }
  EXPECT_EQ(load_scripted_completions(write("good.jsonl", "\"a\\nb\"\n\n\"</think>c\"\n")),
            (std::vector<std::string>{"a\nb", "</think>c"}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lightseek::server::testing

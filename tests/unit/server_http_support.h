// An in-process `lightseek serve` for the HTTP tests: the built-in model's tokenizer, the
// scripted backend with the test's completions, an ephemeral port, and helpers to read
// streams and metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "runtime/loaded_model.h"
#include "runtime/prefix_cache.h"
#include "server/http_server.h"
#include "server/model_step_backend.h"
#include "server/scripted_backend.h"
#include "server/served_model.h"

namespace lightseek::server::testing {

using nlohmann::ordered_json;

inline const LoadedTextModel& builtin_model() {
  static const std::unique_ptr<LoadedTextModel> model =
      load_text_model("", "", NumericsOptions{Numerics::Fast, true});
  return *model;
}

inline constexpr const char* kModelName = "lightseek-builtin";

class TestServer {
 public:
  explicit TestServer(std::vector<std::string> completions,
                      const std::function<void(HttpServerOptions&)>& adjust = {},
                      std::chrono::milliseconds step_interval = std::chrono::milliseconds(0)) {
    const LoadedTextModel& model = builtin_model();
    backend_ = std::make_unique<ScriptedStepBackend>(std::move(completions), *model.tokenizer, model.eos_id,
                                                     step_interval);
    HttpServerOptions options;
    options.port = 0;
    options.log_requests = false;
    options.shutdown_grace = std::chrono::milliseconds(0);
    if (adjust) adjust(options);
    server_ = std::make_unique<HttpServer>(served_model(model, "", options.context_tokens), *backend_, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
  }
  ~TestServer() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    server_->shutdown();
    thread_.join();
  }
  bool stopped() const { return !thread_.joinable(); }

  httplib::Client client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    client.set_connection_timeout(5, 0);
    return client;
  }
  int port() const { return port_; }

  // The value of one metric line ("name{labels}" exactly as written), or -1 when absent.
  double metric(const std::string& series) const {
    auto response = client().Get("/metrics");
    if (!response) return -1;
    std::istringstream lines(response->body);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.compare(0, series.size() + 1, series + " ") == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
  }

  // Polls until `condition` holds (at most `limit`); no fixed sleeps in the tests.
  static bool eventually(const std::function<bool()>& condition,
                         std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return condition();
  }

 private:
  std::unique_ptr<ScriptedStepBackend> backend_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::thread thread_;
};

// `lightseek serve` on the built-in model (real sampling), with or without a prefix cache (kept
// in `cache_directory` too when one is given). Exact numerics by default; tests that need no
// bit-exactness pass Numerics::Fast, which runs their long tool-calling prompts several times
// faster (and much faster under ASan, where the exact scalar path dominates CI time).
class ModelTestServer {
 public:
  // kv_fp8: Numerics::Fast with --kv-cache fp8 (coded KV rows in the cached states).
  explicit ModelTestServer(bool with_cache, std::filesystem::path cache_directory = {},
                           Numerics numerics = Numerics::Exact, bool kv_fp8 = false) {
    const LoadedTextModel& model = kv_fp8 ? builtin_model_with_fp8_kv() : builtin_model(numerics);
    if (with_cache) {
      PrefixCacheOptions options;
      options.expected_layout = model.transformer->new_sequence();
      options.disk_directory = std::move(cache_directory);
      options.model_identity = kv_fp8 ? "builtin-fast-kv-fp8" : numerics == Numerics::Fast ? "builtin-fast" : "builtin-exact";
      cache_ = std::make_unique<PrefixCache>(std::move(options));
    }
    backend_ = std::make_unique<ModelStepBackend>(*model.transformer, *model.tokenizer, model.eos_id, 512, cache_.get());
    HttpServerOptions options;
    options.port = 0;
    options.log_requests = false;
    options.shutdown_grace = std::chrono::milliseconds(0);
    server_ = std::make_unique<HttpServer>(served_model(model, "", options.context_tokens), *backend_, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
  }
  ~ModelTestServer() {
    server_->shutdown();
    thread_.join();
  }

  // The answer's JSON body; a failed test expectation unless the status is `status`.
  ordered_json post(const std::string& path, const ordered_json& body, int status = 200) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(120, 0);
    auto response = client.Post(path.c_str(), body.dump(), "application/json");
    if (!response) return {{"transport_error", true}};
    EXPECT_EQ(response->status, status) << response->body;
    return ordered_json::parse(response->body);
  }
  PrefixCacheStats cache_stats() const { return backend_->cache_stats(); }
  // Fast numerics with --kv-cache fp8; loaded once per process.
  static const LoadedTextModel& builtin_model_with_fp8_kv() {
    set_kernel_threads(1);  // as for Numerics::Fast
    static const std::unique_ptr<LoadedTextModel> model =
        load_text_model("", "", NumericsOptions{Numerics::Fast, true, /*kv_fp8=*/true});
    return *model;
  }

 private:
  // Loaded once per process for each numerics.
  static const LoadedTextModel& builtin_model(Numerics numerics) {
    if (numerics == Numerics::Fast) {
      // The built-in model's parallel regions are tiny: on a CI machine running two tests per
      // core pair, pool threads spinning between them took most of the time (perf: 47%).
      set_kernel_threads(1);
      static const std::unique_ptr<LoadedTextModel> fast = load_text_model("", "", NumericsOptions{Numerics::Fast, true});
      return *fast;
    }
    static const std::unique_ptr<LoadedTextModel> exact = load_text_model("", "", NumericsOptions{Numerics::Exact, true});
    return *exact;
  }

  std::unique_ptr<PrefixCache> cache_;
  std::unique_ptr<ModelStepBackend> backend_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::thread thread_;
};

inline httplib::Result post_json(httplib::Client& client, const std::string& path, const ordered_json& body,
                                 const httplib::Headers& headers = {}) {
  return client.Post(path.c_str(), headers, body.dump(), "application/json");
}

// The JSON payloads of an SSE body ("data: {...}" lines; "[DONE]" is skipped).
inline std::vector<ordered_json> sse_payloads(const std::string& body) {
  std::vector<ordered_json> payloads;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.compare(0, 6, "data: ") != 0 || line == "data: [DONE]") continue;
    payloads.push_back(ordered_json::parse(line.substr(6)));
  }
  return payloads;
}

inline std::vector<ordered_json> ndjson_lines(const std::string& body) {
  std::vector<ordered_json> objects;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) objects.push_back(ordered_json::parse(line));
  }
  return objects;
}

}  // namespace lightseek::server::testing

// `lightseek serve`: the HTTP front of the scheduler. Routes every API endpoint through the
// protocol layer (protocol_dispatch.h) onto one Scheduler, and adds what a server needs around
// it: API-key auth, body size limit, timeouts, request ids and logs, metrics, and a graceful
// shutdown (stop accepting, let running sequences finish within a grace period, then cancel).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server/model_facts.h"
#include "server/scheduler.h"
#include "server/server_metrics.h"
#include "server/step_backend.h"
#include "text/tokenizer.h"

namespace lightseek::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;      // 0: any free port (bind() returns it)
  std::string api_key;  // empty: no authentication
  std::size_t max_body_bytes = 8 << 20;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
  std::chrono::milliseconds shutdown_grace{5000};
  int64_t context_tokens = 4096;  // per sequence: prompt plus generated tokens
  SchedulerOptions scheduler;
  bool log_requests = true;  // one line per request on stderr
};

// What the server needs to know of the model it serves.
struct ServedModel {
  const Tokenizer* tokenizer = nullptr;
  int32_t eos_id = 1;
  ModelFacts facts;  // facts.name is the model name requests must use
};

class HttpServer {
 public:
  // `backend` and the tokenizer must outlive the server. Starts the model thread.
  HttpServer(ServedModel model, StepBackend& backend, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port. Throws lightseek::Error when it cannot.
  int bind();
  // Serves until shutdown(); returns once in-flight requests are answered.
  void serve();
  // Thread-safe and idempotent; serve() returns soon after.
  void shutdown();

  const ServerMetrics& metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lightseek::server

// What every route handler shares: the served model, the options, the scheduler, the metrics,
// the per-request records and the count of responses still being written.
#pragma once

#include "server/http_server.h"
#include "server/open_responses.h"
#include "server/request_log.h"

namespace lightseek::server {

struct ServerContext {
  ServedModel model;
  HttpServerOptions options;
  Scheduler& scheduler;
  const StepBackend& backend;
  ServerMetrics& metrics;
  RequestRecords& records;
  OpenResponses& responses;

  // The model name as requests use it; "NAME:latest" is the same model (Ollama clients).
  bool serves(const std::string& name) const { return name == model.facts.name || name == model.facts.name + ":latest"; }
};

}  // namespace lightseek::server

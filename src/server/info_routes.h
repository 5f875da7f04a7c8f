// The endpoints that answer without generating: model lists and details (OpenAI, Ollama),
// health, Prometheus metrics, and llama.cpp-style /tokenize and /detokenize.
#pragma once

#include <httplib.h>

#include "server/server_context.h"

namespace lightseek::server {

void handle_openai_models(ServerContext& context, httplib::Response& res);
void handle_ollama_tags(ServerContext& context, httplib::Response& res);
void handle_ollama_show(ServerContext& context, const httplib::Request& req, httplib::Response& res);
void handle_ollama_ps(ServerContext& context, httplib::Response& res);
void handle_ollama_version(httplib::Response& res);
void handle_health(httplib::Response& res);
void handle_metrics(ServerContext& context, httplib::Response& res);
// {"content": "text"} → {"tokens": [ids]}; special tokens written in the text become their ids.
void handle_tokenize(ServerContext& context, const httplib::Request& req, httplib::Response& res);
// {"tokens": [ids]} → {"content": "text"}.
void handle_detokenize(ServerContext& context, const httplib::Request& req, httplib::Response& res);

}  // namespace lightseek::server

#include "server/info_routes.h"

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"
#include "server/http_responses.h"
#include "server/json_body.h"
#include "server/ollama_protocol.h"
#include "server/openai_protocol.h"

namespace lightseek::server {

using nlohmann::ordered_json;

// What /api/version reports: Ollama clients compare it against a minimum, so it names the
// Ollama release whose API these endpoints follow rather than lightseek's own version.
constexpr const char* kOllamaCompatibleVersion = "0.6.0";

void handle_openai_models(ServerContext& context, httplib::Response& res) {
  send_json(res, 200, openai::models_body({context.model.facts}));
}

void handle_ollama_tags(ServerContext& context, httplib::Response& res) {
  send_json(res, 200, ollama::tags_body({context.model.facts}));
}

void handle_ollama_show(ServerContext& context, const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json_body(req.body);
  if (!body) return send_error(res, ApiProtocol::Ollama, body.error());
  auto name = ollama::parse_show_request(*body);
  if (!name) return send_error(res, ApiProtocol::Ollama, name.error());
  if (!context.serves(*name)) return send_error(res, ApiProtocol::Ollama, model_not_found(*name));
  send_json(res, 200, ollama::show_body(context.model.facts));
}

void handle_ollama_ps(ServerContext& context, httplib::Response& res) {
  // The model stays loaded as long as the server runs.
  const auto expires = std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
  send_json(res, 200, ollama::ps_body({context.model.facts}, expires));
}

void handle_ollama_version(httplib::Response& res) {
  send_json(res, 200, ollama::version_body(kOllamaCompatibleVersion));
}

void handle_health(httplib::Response& res) { send_json(res, 200, ordered_json{{"status", "ok"}}); }

void handle_metrics(ServerContext& context, httplib::Response& res) {
  res.status = 200;
  res.set_content(context.metrics.prometheus_text(context.scheduler.load(), context.backend.cache_stats()), "text/plain; version=0.0.4");
}

void handle_tokenize(ServerContext& context, const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json_body(req.body);
  if (!body) return send_error(res, ApiProtocol::OpenAI, body.error());
  const auto content = body->find("content");
  if (content == body->end() || !content->is_string()) {
    return send_error(res, ApiProtocol::OpenAI, invalid_request("content", "content must be a string"));
  }
  std::vector<int32_t> tokens;
  try {
    tokens = context.model.tokenizer->encode(content->get<std::string>());
  } catch (const Error& error) {
    return send_error(res, ApiProtocol::OpenAI, invalid_request("content", error.what()));
  }
  send_json(res, 200, ordered_json{{"tokens", tokens}});
}

void handle_detokenize(ServerContext& context, const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json_body(req.body);
  if (!body) return send_error(res, ApiProtocol::OpenAI, body.error());
  const auto tokens = body->find("tokens");
  if (tokens == body->end() || !tokens->is_array()) {
    return send_error(res, ApiProtocol::OpenAI, invalid_request("tokens", "tokens must be an array of token ids"));
  }
  std::vector<int32_t> ids;
  const Tokenizer& tokenizer = *context.model.tokenizer;
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    const ordered_json& id = (*tokens)[i];
    const std::string param = "tokens[" + std::to_string(i) + "]";
    if (!id.is_number_integer()) return send_error(res, ApiProtocol::OpenAI, invalid_request(param, "not an integer"));
    const int64_t value = id.get<int64_t>();
    if (value < 0 || value >= tokenizer.vocab_size() || !tokenizer.has_token(static_cast<int32_t>(value))) {
      return send_error(res, ApiProtocol::OpenAI, invalid_request(param, "no token has id " + std::to_string(value)));
    }
    ids.push_back(static_cast<int32_t>(value));
  }
  send_json(res, 200, ordered_json{{"content", tokenizer.decode(ids)}});
}

}  // namespace lightseek::server

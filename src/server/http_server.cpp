#include "server/http_server.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <unistd.h>

#include <httplib.h>

#include "core/error.h"
#include "server/generation_route.h"
#include "server/http_responses.h"
#include "server/info_routes.h"
#include "server/server_context.h"

namespace lightseek::server {
namespace {

using Clock = std::chrono::steady_clock;
using RouteHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

constexpr const char* kRequestIdHeader = "x-request-id";

// Every byte compared, so the time taken does not tell how much of a guess was right.
bool same_secret(const std::string& given, const std::string& key) {
  unsigned char difference = given.size() == key.size() ? 0 : 1;
  const std::size_t length = std::max(given.size(), key.size());
  for (std::size_t i = 0; i < length; ++i) {
    const char a = i < given.size() ? given[i] : '\0';
    const char b = i < key.size() ? key[i] : '\0';
    difference |= static_cast<unsigned char>(a ^ b);
  }
  return difference == 0;
}

// "Authorization: Bearer KEY" (OpenAI, Ollama) or "x-api-key: KEY" (Anthropic).
bool authorized_constant_time(const httplib::Request& req, const std::string& key) {
  const std::string bearer = req.get_header_value("Authorization");
  const bool by_header = same_secret(req.get_header_value("x-api-key"), key);
  const bool by_bearer = bearer.size() > 7 && bearer.compare(0, 7, "Bearer ") == 0 && same_secret(bearer.substr(7), key);
  return by_header || by_bearer;
}

}  // namespace

// httplib's stop() only closes a listening socket. A server shut down before it listened keeps
// its bound socket, where connections would wait unanswered until the process ends.
class BoundServer : public httplib::Server {
 public:
  void close_unused_socket() {
    const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) ::close(sock);
  }
};

struct HttpServer::Impl {
  Impl(ServedModel served, StepBackend& backend, HttpServerOptions server_options)
      : scheduler(backend, *served.tokenizer, served.eos_id, server_options.scheduler,
                  [this](const StepReport& report) { metrics.record_step(report); }),
        context{std::move(served), std::move(server_options), scheduler, backend, metrics, records, responses} {}

  void add_routes();
  void route(const std::string& method, const std::string& path, RouteHandler handler, bool needs_key = true);
  void on_error(const httplib::Request& req, httplib::Response& res);
  void on_answered(const httplib::Request& req, const httplib::Response& res);

  ServerMetrics metrics;
  RequestRecords records;
  OpenResponses responses;  // outlives `http`, whose responses hold it
  Scheduler scheduler;
  ServerContext context;
  BoundServer http;
  std::map<std::string, std::set<std::string>> methods_by_path;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> serving{false};
};

void HttpServer::Impl::route(const std::string& method, const std::string& path, RouteHandler handler,
                             bool needs_key) {
  methods_by_path[path].insert(method);
  auto guarded = [this, path, needs_key, handler = std::move(handler)](const httplib::Request& req,
                                                                       httplib::Response& res) {
    const ApiProtocol protocol = protocol_for_path(path);
    if (auto record = records.find(res.get_header_value(kRequestIdHeader))) record->route = path;
    const std::string& key = context.options.api_key;
    if (needs_key && !key.empty() && !authorized_constant_time(req, key)) {
      return send_error(res, protocol,
                        authentication_failed("a valid API key is required: 'Authorization: Bearer KEY' or 'x-api-key: KEY'"));
    }
    handler(req, res);
  };
  if (method == "GET") {
    http.Get(path, std::move(guarded));
  } else {
    http.Post(path, std::move(guarded));
  }
}

void HttpServer::Impl::add_routes() {
  auto generation = [this](ApiEndpoint endpoint) {
    return [this, endpoint](const httplib::Request& req, httplib::Response& res) {
      auto record = records.find(res.get_header_value(kRequestIdHeader));
      if (!record) record = std::make_shared<RequestRecord>();
      handle_generation(context, endpoint, req, res, record);
    };
  };
  for (ApiEndpoint endpoint : {ApiEndpoint::OpenAIChatCompletions, ApiEndpoint::OpenAICompletions,
                               ApiEndpoint::AnthropicMessages, ApiEndpoint::AnthropicCountTokens,
                               ApiEndpoint::OllamaChat, ApiEndpoint::OllamaGenerate}) {
    route("POST", std::string(endpoint_path(endpoint)), generation(endpoint));
  }
  route("GET", "/v1/models", [this](const httplib::Request&, httplib::Response& res) { handle_openai_models(context, res); });
  route("GET", "/api/tags", [this](const httplib::Request&, httplib::Response& res) { handle_ollama_tags(context, res); });
  route("POST", "/api/show",
        [this](const httplib::Request& req, httplib::Response& res) { handle_ollama_show(context, req, res); });
  route("GET", "/api/ps", [this](const httplib::Request&, httplib::Response& res) { handle_ollama_ps(context, res); });
  route("GET", "/api/version", [](const httplib::Request&, httplib::Response& res) { handle_ollama_version(res); });
  route("GET", "/health", [](const httplib::Request&, httplib::Response& res) { handle_health(res); }, false);
  route("GET", "/metrics", [this](const httplib::Request&, httplib::Response& res) { handle_metrics(context, res); });
  route("POST", "/tokenize",
        [this](const httplib::Request& req, httplib::Response& res) { handle_tokenize(context, req, res); });
  route("POST", "/detokenize",
        [this](const httplib::Request& req, httplib::Response& res) { handle_detokenize(context, req, res); });
}

// Failures httplib detects itself (no route, body too large, unreadable request) get a JSON
// body in the API's shape; so do handler statuses that came without one.
void HttpServer::Impl::on_error(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty() || res.content_provider_) return;
  const ApiProtocol protocol = protocol_for_path(req.path);
  ProtocolError error;
  error.http_status = res.status;
  if (res.status == 404) {
    const auto known = methods_by_path.find(req.path);
    if (known != methods_by_path.end()) {
      std::string allowed;
      for (const std::string& method : known->second) allowed += (allowed.empty() ? "" : ", ") + method;
      res.set_header("Allow", allowed);
      error.http_status = 405;
      error.message = req.method + " is not allowed on " + req.path + " (use " + allowed + ")";
    } else {
      error.type = "not_found_error";
      error.message = "no endpoint " + req.method + " " + req.path;
    }
  } else if (res.status == 413) {
    error = request_too_large("the request body is larger than " +
                              std::to_string(context.options.max_body_bytes) + " bytes");
  } else if (res.status >= 500) {
    error = server_error("internal error");
  } else {
    error.message = "malformed HTTP request";
  }
  send_error(res, protocol, error);
}

void HttpServer::Impl::on_answered(const httplib::Request& req, const httplib::Response& res) {
  auto record = records.end(res.get_header_value(kRequestIdHeader));
  if (!record) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - record->start).count();
  metrics.record_request(record->route, res.status, seconds, record->prompt_tokens.load(),
                         record->generated_tokens.load());
  if (context.options.log_requests) {
    std::fprintf(stderr, "%s\n", request_log_line(*record, req.method, req.path, res.status, seconds).c_str());
  }
}

HttpServer::HttpServer(ServedModel model, StepBackend& backend, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), backend, std::move(options))) {
  // A client that hangs up mid-stream must be a failed write, not a signal that ends us.
  std::signal(SIGPIPE, SIG_IGN);
  Impl& impl = *impl_;
  const HttpServerOptions& o = impl.context.options;
  impl.http.set_payload_max_length(o.max_body_bytes);
  impl.http.set_read_timeout(o.read_timeout.count(), 0);
  impl.http.set_write_timeout(o.write_timeout.count(), 0);
  // Every admitted or queued request holds a connection thread while it waits or streams;
  // the rest answer 429 or serve the cheap endpoints.
  const std::size_t threads = static_cast<std::size_t>(o.scheduler.parallel + o.scheduler.queue + 8);
  impl.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl.http.set_pre_routing_handler([&impl](const httplib::Request& req, httplib::Response& res) {
    const std::string id = request_id_for(req.get_header_value(kRequestIdHeader));
    res.set_header(kRequestIdHeader, id);
    impl.records.begin(id);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  impl.http.set_error_handler(httplib::Server::HandlerWithResponse(
      [&impl](const httplib::Request& req, httplib::Response& res) {
        impl.on_error(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  impl.http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr error) {
    std::string what = "unknown exception";
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "lightseek serve: internal error on %s: %s\n", req.path.c_str(), what.c_str());
    send_error(res, protocol_for_path(req.path), server_error("internal error"));
  });
  impl.http.set_logger([&impl](const httplib::Request& req, const httplib::Response& res) { impl.on_answered(req, res); });
  impl.add_routes();
}

HttpServer::~HttpServer() {
  shutdown();
  impl_->http.close_unused_socket();  // bound, and serve() never called
}

int HttpServer::bind() {
  const HttpServerOptions& o = impl_->context.options;
  const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) fail("cannot listen on ", o.host, ":", o.port, " (in use, or not an address of this machine)");
  return port;
}

void HttpServer::serve() {
  impl_->serving = true;
  if (!impl_->stop_requested) {
    impl_->http.listen_after_bind();
  } else {
    impl_->http.close_unused_socket();
  }
  impl_->serving = false;
}

void HttpServer::shutdown() {
  if (impl_->stop_requested.exchange(true)) return;
  const auto grace = impl_->context.options.shutdown_grace;
  impl_->scheduler.shutdown(grace);
  // Every sequence ends by the grace deadline; a client that stops reading can hold its
  // writer until httplib's write timeout (5 s) on top of that.
  impl_->responses.wait_until_none(Clock::now() + grace + std::chrono::seconds(10));
  // stop() only acts on a running listener: wait for serve() to get there, or to have ended.
  while (impl_->serving && !impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->http.stop();
}

const ServerMetrics& HttpServer::metrics() const { return impl_->metrics; }

}  // namespace lightseek::server

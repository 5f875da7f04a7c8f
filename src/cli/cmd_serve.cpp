// `lightseek serve`: the OpenAI, Anthropic and Ollama compatible HTTP server.
#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/generation_flags.h"
#include "core/error.h"
#include "runtime/prefix_cache.h"
#include "runtime/state_file.h"
#include "server/http_server.h"
#include "server/served_model.h"
#include "server/shutdown_signal.h"

namespace lightseek::cli {

namespace {

struct ServeOptions {
  GenerationFlags model;  // only the model, tokenizer, numerics (and KV cache) and threads flags are used
  std::string name;
  server::HttpServerOptions http;
  int queue = -1;  // -1: four times --parallel
  std::string scripted_file;
  int scripted_step_ms = 0;
  int64_t prefill_chunk = 512;
  int shutdown_grace_s = 5;
  bool no_cache = false;
  double cache_ram_gb = 4.0;
  std::string cache_dir;
  double cache_disk_gb = 20.0;
};

uint64_t gigabytes(double value) { return static_cast<uint64_t>(value * 1e9); }

void check(const ServeOptions& o) {
  if (o.http.scheduler.parallel < 1) fail("--parallel must be at least 1, got ", o.http.scheduler.parallel);
  if (o.queue < -1) fail("--queue must be 0 or more, got ", o.queue);
  if (o.http.context_tokens < 2) fail("--ctx must be at least 2, got ", o.http.context_tokens);
  if (o.http.port < 0 || o.http.port > 65535) fail("--port must be 0…65535, got ", o.http.port);
  if (o.scripted_step_ms < 0) fail("--scripted-step-ms must be 0 or more");
  if (o.prefill_chunk < 1) fail("--prefill-chunk must be at least 1");
  if (o.shutdown_grace_s < 0) fail("--shutdown-grace must be 0 or more");
  if (!(o.cache_ram_gb >= 0) || o.cache_ram_gb > 1e6) fail("--cache-ram must be 0 or more GB, got ", o.cache_ram_gb);
  if (!(o.cache_disk_gb >= 0) || o.cache_disk_gb > 1e9) fail("--cache-disk must be 0 or more GB, got ", o.cache_disk_gb);
}

}  // namespace

void register_serve(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand("serve", "OpenAI, Anthropic and Ollama compatible HTTP server");
  ServeOptions& o = *options;
  command->add_option("-m,--model", o.model.model_dir, "model directory (default: the built-in toy model)");
  command->add_option("--tokenizer", o.model.tokenizer_file, "tokenizer.json to use instead of the model's");
  add_numerics_flags(command, o.model.numerics, /*with_act_quant_flag=*/false);
  command->add_option("--threads", o.model.threads, "kernel threads (default: every CPU this process may use)");
  command->add_option("--name", o.name, "the model name clients use (default: the directory's name)");
  command->add_option("--host", o.http.host, "address to listen on")->capture_default_str();
  command->add_option("--port", o.http.port, "port to listen on (0: any free port)")->capture_default_str();
  command->add_option("--api-key", o.http.api_key, "require this key (Authorization: Bearer or x-api-key)");
  command->add_option("--parallel", o.http.scheduler.parallel, "sequences generated together")->capture_default_str();
  command->add_option("--queue", o.queue, "requests that may wait beyond them (default: 4 x --parallel)");
  command->add_option("--ctx", o.http.context_tokens, "context tokens per sequence (prompt + reply)")
      ->capture_default_str();
  command->add_option("--prefill-chunk", o.prefill_chunk, "prompt tokens per sequence per step")->capture_default_str();
  command->add_option("--shutdown-grace", o.shutdown_grace_s, "seconds running requests may finish after SIGTERM")
      ->capture_default_str();
  command->add_option("--scripted", o.scripted_file,
                      "answer from this file of completions (JSON Lines of strings) instead of sampling");
  command->add_flag("--no-cache", o.no_cache, "keep no prefix cache (every prompt is processed in full)");
  command->add_option("--cache-ram", o.cache_ram_gb, "GB of memory for cached prefix states")->capture_default_str();
  command->add_option("--cache-dir", o.cache_dir, "also keep cached states in this directory, across restarts");
  command->add_option("--cache-disk", o.cache_disk_gb, "GB of disk for --cache-dir")->capture_default_str();
  command->add_option("--scripted-step-ms", o.scripted_step_ms, "with --scripted: milliseconds per step");
  command->callback([options] {
    ServeOptions& o = *options;
    check(o);
    o.http.scheduler.queue = o.queue >= 0 ? o.queue : 4 * o.http.scheduler.parallel;
    o.http.shutdown_grace = std::chrono::seconds(o.shutdown_grace_s);

    // Before any other thread exists, so that they all inherit the blocked signals.
    std::atomic<server::HttpServer*> running{nullptr};
    server::ShutdownSignalWatcher signals([&running](int signal) {
      server::HttpServer* server = running.load();
      if (!server) std::_Exit(128 + signal);  // still loading: nothing to finish
      std::fprintf(stderr, "lightseek serve: shutting down (signal %d)\n", signal);
      server->shutdown();
    });

    auto model = load_model_for_text(o.model);
    if (o.http.context_tokens > model->config.max_position_embeddings) {
      fail("--ctx ", o.http.context_tokens, " is more than the model's ", model->config.max_position_embeddings,
           " positions");
    }
    server::BackendChoice backend_choice;
    backend_choice.scripted_file = o.scripted_file;
    backend_choice.scripted_step_interval = std::chrono::milliseconds(o.scripted_step_ms);
    backend_choice.prefill_chunk = o.prefill_chunk;
    std::unique_ptr<PrefixCache> cache;
    if (!o.no_cache && o.scripted_file.empty()) {
      PrefixCacheOptions cache_options;
      cache_options.ram_bytes = gigabytes(o.cache_ram_gb);
      cache_options.disk_directory = o.cache_dir;
      cache_options.disk_bytes = gigabytes(o.cache_disk_gb);
      cache_options.model_identity = model_identity(*model, numerics_label(numerics_options(o.model.numerics)));
      cache_options.expected_layout = model->transformer->new_sequence();
      cache_options.report = [](const std::string& message) { std::fprintf(stderr, "lightseek serve: %s\n", message.c_str()); };
      cache = std::make_unique<PrefixCache>(std::move(cache_options));
      if (!o.cache_dir.empty()) {
        const PrefixCacheStats stats = cache->stats();
        std::fprintf(stderr, "lightseek serve: prefix cache in %s: %llu states (%.1f MB) from earlier runs\n",
                     o.cache_dir.c_str(), static_cast<unsigned long long>(stats.disk_entries), stats.disk_bytes / 1e6);
      }
    }
    backend_choice.prefix_cache = cache.get();
    auto backend = server::make_step_backend(*model, backend_choice);
    server::ServedModel served = server::served_model(*model, o.name, o.http.context_tokens);
    const std::string name = served.facts.name;

    server::HttpServer server(std::move(served), *backend, o.http);
    const int port = server.bind();
    std::fprintf(stderr, "lightseek serve: model '%s' on http://%s:%d (%d parallel, queue %d, ctx %lld)%s\n",
                 name.c_str(), o.http.host.c_str(), port, o.http.scheduler.parallel, o.http.scheduler.queue,
                 static_cast<long long>(o.http.context_tokens), o.scripted_file.empty() ? "" : ", scripted");
    running = &server;
    server.serve();
    running = nullptr;
    std::fprintf(stderr, "lightseek serve: stopped\n");
  });
}

}  // namespace lightseek::cli

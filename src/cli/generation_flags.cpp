#include "cli/generation_flags.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "core/error.h"
#include "core/thread_pool.h"
#include "runtime/builtin_model.h"
#include "runtime/conversation.h"
#include "text/json_schema.h"

namespace lightseek::cli {

void add_generation_flags(CLI::App* c, GenerationFlags& f) {
  c->add_option("-m,--model", f.model_dir, "model directory (default: the built-in toy model)");
  c->add_option("--tokenizer", f.tokenizer_file, "tokenizer.json to use instead of the model's");
  add_numerics_flags(c, f.numerics, /*with_act_quant_flag=*/false);
  c->add_option("--threads", f.threads, "kernel threads (default: every CPU this process may use)");
  c->add_option("--system", f.system, "system prompt");
  c->add_flag("--thinking", f.thinking, "thinking mode: the model reasons before answering");
  c->add_option("--effort", f.effort, "reasoning effort in thinking mode: default | high | max")->capture_default_str();
  c->add_option("--temperature", f.temperature, "0 = greedy")->capture_default_str();
  c->add_option("--top-k", f.top_k, "keep the k most likely tokens (0 = off)")->capture_default_str();
  c->add_option("--top-p", f.top_p, "nucleus sampling mass (1 = off)")->capture_default_str();
  c->add_option("--min-p", f.min_p, "drop tokens below min-p times the top probability")->capture_default_str();
  c->add_option("--repeat-penalty", f.repetition_penalty, "repetition penalty (1 = off)")->capture_default_str();
  c->add_option("--frequency-penalty", f.frequency_penalty, "OpenAI frequency penalty")->capture_default_str();
  c->add_option("--presence-penalty", f.presence_penalty, "OpenAI presence penalty")->capture_default_str();
  c->add_option("--logit-bias", f.logit_bias, "ID=BIAS, repeatable");
  c->add_option("--seed", f.seed, "random seed (default: from the clock)");
  c->add_flag("--gumbel", f.gumbel, "sample like DeepSeek's generate.py (Gumbel-max)");
  c->add_option("-n,--max-tokens", f.max_tokens, "tokens to generate at most")->capture_default_str();
  c->add_option("--stop", f.stop, "stop string, repeatable");
  c->add_option("--json-schema", f.json_schema_file, "answer with JSON matching the JSON schema in FILE");
  c->add_flag("--json", f.json, "answer with a JSON object");
}

std::unique_ptr<LoadedTextModel> load_model_for_text(const GenerationFlags& flags) {
  const NumericsOptions numerics = numerics_options(flags.numerics);
  if (flags.threads < 0) fail("--threads must be at least 1, got ", flags.threads);
  if (flags.threads > 0) set_kernel_threads(flags.threads);
  auto model = load_text_model(flags.model_dir, flags.tokenizer_file, numerics,
                               [](const std::string& message) { std::fprintf(stderr, "%s\n", message.c_str()); });
  if (model->builtin) std::fprintf(stderr, "%s\n", kBuiltinModelBanner);
  return model;
}

GenerationSettings generation_settings(const GenerationFlags& f, const LoadedTextModel& model) {
  GenerationSettings s;
  s.sampling.temperature = f.temperature;
  s.sampling.top_k = f.top_k;
  s.sampling.top_p = f.top_p;
  s.sampling.min_p = f.min_p;
  s.sampling.repetition_penalty = f.repetition_penalty;
  s.sampling.frequency_penalty = f.frequency_penalty;
  s.sampling.presence_penalty = f.presence_penalty;
  s.sampling.gumbel_max = f.gumbel;
  s.sampling.seed = f.seed >= 0 ? static_cast<uint64_t>(f.seed)
                                : static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (const std::string& entry : f.logit_bias) {
    const size_t equals = entry.find('=');
    try {
      if (equals == std::string::npos) throw std::invalid_argument("no '='");
      size_t used_id = 0, used_bias = 0;
      const long id = std::stol(entry.substr(0, equals), &used_id);
      const float bias = std::stof(entry.substr(equals + 1), &used_bias);
      if (used_id != equals || used_bias != entry.size() - equals - 1 || id < 0 || id >= model.config.vocab_size) {
        throw std::invalid_argument("bad number");
      }
      s.sampling.logit_bias[static_cast<int32_t>(id)] = bias;
    } catch (const std::exception&) {
      fail("--logit-bias '", entry, "': expected ID=BIAS with 0 <= ID < ", model.config.vocab_size);
    }
  }
  validate_sampling_params(s.sampling);
  if (f.max_tokens <= 0) fail("--max-tokens must be positive, got ", f.max_tokens);
  s.stop.max_tokens = f.max_tokens;
  s.stop.stop_strings = f.stop;
  s.stop.stop_token_ids = {model.eos_id};
  s.mode = f.thinking ? ThinkingMode::Thinking : ThinkingMode::Chat;
  if (f.json && !f.json_schema_file.empty()) fail("give --json or --json-schema, not both");
  if (f.json) s.output_grammar = JsonSchemaGrammar::any_object();
  if (!f.json_schema_file.empty()) {
    std::ifstream in(f.json_schema_file);
    if (!in) fail("--json-schema ", f.json_schema_file, ": cannot read");
    const auto schema = nlohmann::ordered_json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded()) fail("--json-schema ", f.json_schema_file, ": not valid JSON");
    try {
      s.output_grammar = JsonSchemaGrammar::compile(schema, "schema");
    } catch (const Error& error) {
      fail("--json-schema ", f.json_schema_file, ": ", error.what());
    }
  }
  return s;
}

EncodeOptions encode_options(const GenerationFlags& flags) {
  EncodeOptions options;
  options.thinking = flags.thinking ? ThinkingMode::Thinking : ThinkingMode::Chat;
  options.effort = parse_effort(flags.effort);
  return options;
}

void DeltaPrinter::print(const ParsedDelta& delta) {
  if (!started_) {
    tty_ = isatty(STDOUT_FILENO);
    started_ = true;
  }
  if (!delta.reasoning.empty()) {
    if (section_ != Section::Reasoning) std::fputs(tty_ ? "\033[2m" : "thinking: ", stdout);
    section_ = Section::Reasoning;
    std::fputs(delta.reasoning.c_str(), stdout);
  }
  if (!delta.content.empty()) {
    if (section_ == Section::Reasoning) std::fputs(tty_ ? "\033[0m\n\n" : "\nanswer: ", stdout);
    section_ = Section::Content;
    std::fputs(delta.content.c_str(), stdout);
  }
  for (const ToolCall& call : delta.tool_calls) {
    if (section_ == Section::Reasoning && tty_) std::fputs("\033[0m", stdout);
    section_ = Section::Content;
    std::printf("\ntool call: %s %s\n", call.name.c_str(), call.arguments.dump().c_str());
  }
  std::fflush(stdout);
}

void DeltaPrinter::end() {
  if (section_ == Section::Reasoning && tty_) std::fputs("\033[0m", stdout);
  std::fputs("\n", stdout);
  std::fflush(stdout);
  section_ = Section::None;
}

std::string summary_line(int64_t prompt_tokens, const PrefillStats& prefill, const GenerationResult& g) {
  const double prefill_rate = prefill.seconds > 0 ? static_cast<double>(prefill.processed) / prefill.seconds : 0.0;
  const double decode_rate = g.seconds > 0 ? static_cast<double>(g.tokens.size()) / g.seconds : 0.0;
  char line[256];
  std::snprintf(line, sizeof line,
                "prompt %lld tokens (%lld reused), prefill %.1f tok/s | generated %zu tokens, decode %.1f tok/s | %s",
                (long long)prompt_tokens, (long long)prefill.reused, prefill_rate, g.tokens.size(), decode_rate,
                g.cancelled ? "stopped: interrupted" : ("stop: " + std::string(stop_reason_name(g.reason))).c_str());
  return line;
}

}  // namespace lightseek::cli

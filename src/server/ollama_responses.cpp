// Ollama response bodies, NDJSON stream lines, errors and model listings.
#include <cmath>
#include <cstdio>

#include "server/json_body.h"
#include "server/ollama_protocol.h"
#include "server/response_common.h"

namespace lightseek::server::ollama {

namespace {

using nlohmann::ordered_json;
using namespace responses;

const char* done_reason(FinishReason reason) {
  return reason == FinishReason::Length ? "length" : "stop";  // Ollama reports tool calls as "stop"
}

bool is_chat(const GenerationRequest& request) { return request.endpoint == ApiEndpoint::OllamaChat; }

ordered_json head(const ResponseMeta& meta) {
  return ordered_json{{"model", meta.model}, {"created_at", rfc3339(meta.created)}};
}

ordered_json tool_call_json(const ToolCall& call) {
  return ordered_json{{"function", {{"name", call.name}, {"arguments", call.arguments}}}};
}

// The reply's text in the endpoint's shape: a message for /api/chat, fields for /api/generate.
void put_text(ordered_json& body, bool chat, const std::string& reasoning, const std::string& content,
              const std::vector<ToolCall>& calls) {
  if (chat) {
    ordered_json message{{"role", "assistant"}, {"content", content}};
    if (!reasoning.empty()) message["thinking"] = reasoning;
    if (!calls.empty()) {
      ordered_json list = ordered_json::array();
      for (const ToolCall& call : calls) list.push_back(tool_call_json(call));
      message["tool_calls"] = std::move(list);
    }
    body["message"] = std::move(message);
  } else {
    body["response"] = content;
    if (!reasoning.empty()) body["thinking"] = reasoning;
  }
}

void put_final_fields(ordered_json& body, FinishReason reason, const Usage& usage) {
  body["done"] = true;
  body["done_reason"] = done_reason(reason);
  body["total_duration"] = usage.total_or_sum_ns();
  body["load_duration"] = usage.load_ns;
  // Ollama counts the prompt tokens it evaluated, which leaves out the reused ones.
  body["prompt_eval_count"] = usage.prompt_tokens - usage.cached_prompt_tokens;
  body["prompt_eval_duration"] = usage.prefill_ns;
  body["eval_count"] = usage.completion_tokens;
  body["eval_duration"] = usage.decode_ns;
}

ordered_json load_body(const GenerationRequest& request, const ResponseMeta& meta) {
  ordered_json body = head(meta);
  put_text(body, is_chat(request), "", "", {});
  body["done"] = true;
  body["done_reason"] = "load";
  return body;
}

std::string line(const ordered_json& value) { return to_json_text(value) + "\n"; }

class OllamaStream final : public StreamFormatter {
 public:
  OllamaStream(const GenerationRequest& request, ResponseMeta meta)
      : chat_(is_chat(request)), load_only_(request.load_only), logprobs_(request.logprobs.enabled),
        request_(request), meta_(std::move(meta)) {}

  std::string_view content_type() const override { return "application/x-ndjson"; }
  bool finished() const override { return done_; }

  std::string write(const GenerationEvent& event) override {
    if (done_) return {};
    return std::visit([&](const auto& e) { return on(e); }, event);
  }

  std::string write_error(const ProtocolError& error) override {
    if (done_) return {};
    done_ = true;
    return line(error_body(error));
  }

 private:
  bool live(std::size_t choice) const { return choice == 0 && !choice_finished_ && !load_only_; }

  std::string chunk(const std::string& reasoning, const std::string& content, const std::vector<ToolCall>& calls,
                    const std::vector<TokenLogprob>* logprobs = nullptr) {
    ordered_json body = head(meta_);
    put_text(body, chat_, reasoning, content, calls);
    body["done"] = false;
    if (logprobs_ && logprobs) body["logprobs"] = token_logprobs_json(*logprobs);
    return line(body);
  }

  std::string on(const StreamStarted&) { return {}; }
  std::string on(const ReasoningDelta& event) {
    return live(event.choice) && !event.text.empty() ? chunk(event.text, "", {}) : "";
  }
  std::string on(const ContentDelta& event) {
    if (!live(event.choice) || (event.text.empty() && event.logprobs.empty())) return {};
    return chunk("", event.text, {}, &event.logprobs);
  }
  std::string on(const ToolCallCompleted& event) {
    // /api/generate has no place for tool calls; it offers no tools either.
    return live(event.choice) && chat_ ? chunk("", "", {event.call}) : "";
  }
  std::string on(const ChoiceFinished& event) {
    if (!live(event.choice)) return {};
    choice_finished_ = true;
    reason_ = event.reason;
    return {};
  }
  std::string on(const StreamFinished& event) {
    done_ = true;
    if (load_only_) return line(load_body(request_, meta_));
    ordered_json body = head(meta_);
    put_text(body, chat_, "", "", {});
    put_final_fields(body, reason_, event.usage);
    return line(body);
  }

  bool chat_;
  bool load_only_;
  bool logprobs_;
  GenerationRequest request_;
  ResponseMeta meta_;
  bool done_ = false;
  bool choice_finished_ = false;
  FinishReason reason_ = FinishReason::Cancelled;
};

ordered_json details_json(const ModelFacts& model) {
  return ordered_json{{"parent_model", ""},
                      {"format", model.format},
                      {"family", model.family},
                      {"families", ordered_json::array({model.family})},
                      {"parameter_size", parameter_size_text(model.parameter_count)},
                      {"quantization_level", model.quantization}};
}

}  // namespace

ordered_json response_body(const GenerationRequest& request, const GenerationOutcome& outcome,
                           const ResponseMeta& meta) {
  if (request.load_only) return load_body(request, meta);
  ordered_json body = head(meta);
  FinishReason reason = FinishReason::Cancelled;
  if (!outcome.choices.empty()) {
    const FinishedChoice& choice = outcome.choices.front();
    put_text(body, is_chat(request), choice.reasoning, choice.content, choice.tool_calls);
    if (request.logprobs.enabled) body["logprobs"] = token_logprobs_json(choice.logprobs);
    reason = choice.finish_reason;
  } else {
    put_text(body, is_chat(request), "", "", {});
  }
  put_final_fields(body, reason, outcome.usage);
  return body;
}

std::unique_ptr<StreamFormatter> make_stream_formatter(const GenerationRequest& request, ResponseMeta meta) {
  return std::make_unique<OllamaStream>(request, std::move(meta));
}

ordered_json error_body(const ProtocolError& error) { return ordered_json{{"error", error.message}}; }

std::string parameter_size_text(int64_t parameter_count) {
  static constexpr struct {
    double scale;
    const char* suffix;
  } kUnits[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
  for (const auto& unit : kUnits) {
    const double value = static_cast<double>(parameter_count) / unit.scale;
    if (value >= 1.0) {
      char text[32];
      // One decimal below 100 ("8.0B", "1.6T"), none above ("284B"), as Ollama prints them.
      if (value >= 100.0) {
        std::snprintf(text, sizeof text, "%.0f%s", std::round(value), unit.suffix);
      } else {
        std::snprintf(text, sizeof text, "%.1f%s", value, unit.suffix);
      }
      return text;
    }
  }
  return std::to_string(parameter_count);
}

ordered_json tags_body(const std::vector<ModelFacts>& models) {
  ordered_json list = ordered_json::array();
  for (const ModelFacts& model : models) {
    list.push_back({{"name", model.name},
                    {"model", model.name},
                    {"modified_at", rfc3339(model.modified)},
                    {"size", model.size_bytes},
                    {"digest", model.digest},
                    {"details", details_json(model)}});
  }
  return ordered_json{{"models", std::move(list)}};
}

ordered_json show_body(const ModelFacts& model) {
  ordered_json capabilities = ordered_json::array({"completion"});
  if (model.supports_tools) capabilities.push_back("tools");
  if (model.supports_thinking) capabilities.push_back("thinking");
  ordered_json info{{"general.architecture", model.family},
                    {"general.parameter_count", model.parameter_count},
                    {model.family + ".context_length", model.context_length}};
  return ordered_json{{"license", ""},
                      {"modelfile", ""},
                      {"parameters", ""},
                      {"template", ""},
                      {"details", details_json(model)},
                      {"model_info", std::move(info)},
                      {"capabilities", std::move(capabilities)},
                      {"modified_at", rfc3339(model.modified)}};
}

ordered_json ps_body(const std::vector<ModelFacts>& loaded, std::chrono::system_clock::time_point expires_at) {
  ordered_json list = ordered_json::array();
  for (const ModelFacts& model : loaded) {
    list.push_back({{"name", model.name},
                    {"model", model.name},
                    {"size", model.size_bytes},
                    {"digest", model.digest},
                    {"details", details_json(model)},
                    {"expires_at", rfc3339(expires_at)},
                    {"size_vram", 0},
                    {"context_length", model.context_length}});
  }
  return ordered_json{{"models", std::move(list)}};
}

ordered_json version_body(const std::string& version) { return ordered_json{{"version", version}}; }

}  // namespace lightseek::server::ollama

// OpenAI response bodies, stream chunks, errors and the model list.
#include <set>

#include "server/json_body.h"
#include "server/openai_protocol.h"
#include "server/response_common.h"
#include "text/utf8.h"

namespace lightseek::server::openai {

namespace {

using nlohmann::ordered_json;
using namespace responses;

// OpenAI has no word for a cancelled generation; what was produced is a normal, if early, stop.
const char* finish_reason_text(FinishReason reason) {
  switch (reason) {
    case FinishReason::Length:
      return "length";
    case FinishReason::ToolCalls:
      return "tool_calls";
    case FinishReason::Stop:
    case FinishReason::Cancelled:
      return "stop";
  }
  return "stop";
}

ordered_json usage_json(const Usage& usage, bool chat) {
  ordered_json out{{"prompt_tokens", usage.prompt_tokens},
                   {"completion_tokens", usage.completion_tokens},
                   {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
  if (chat) {
    out["prompt_tokens_details"] = {{"cached_tokens", usage.cached_prompt_tokens}};
    out["completion_tokens_details"] = {{"reasoning_tokens", usage.reasoning_tokens}};
  }
  return out;
}

ordered_json tool_call_json(const ToolCall& call) {
  return ordered_json{{"id", call.id},
                      {"type", "function"},
                      {"function", {{"name", call.name}, {"arguments", arguments_text(call)}}}};
}

// Legacy completions logprobs: parallel arrays, text offsets counted from `offset`.
ordered_json completion_logprobs(const std::vector<TokenLogprob>& logprobs, std::size_t offset) {
  ordered_json tokens = ordered_json::array(), token_logprobs = ordered_json::array(),
               top = ordered_json::array(), offsets = ordered_json::array();
  for (const TokenLogprob& logprob : logprobs) {
    tokens.push_back(utf8::to_valid_lossy(logprob.token));
    token_logprobs.push_back(logprob.logprob);
    ordered_json alternatives = ordered_json::object();
    for (const TokenAlternative& alternative : logprob.top) {
      alternatives[utf8::to_valid_lossy(alternative.token)] = alternative.logprob;
    }
    top.push_back(std::move(alternatives));
    offsets.push_back(offset);
    offset += logprob.token.size();
  }
  return ordered_json{
      {"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top}, {"text_offset", offsets}};
}

ordered_json chat_message_json(const GenerationRequest& request, const FinishedChoice& choice) {
  ordered_json message{{"role", "assistant"}};
  // As OpenAI does: a reply made only of tool calls has null content.
  if (choice.content.empty() && !choice.tool_calls.empty()) {
    message["content"] = nullptr;
  } else {
    message["content"] = choice.content;
  }
  if (request.thinking == ThinkingMode::Thinking || !choice.reasoning.empty()) {
    message["reasoning_content"] = choice.reasoning;
  }
  if (!choice.tool_calls.empty()) {
    ordered_json calls = ordered_json::array();
    for (const ToolCall& call : choice.tool_calls) calls.push_back(tool_call_json(with_id(call, ApiProtocol::OpenAI)));
    message["tool_calls"] = std::move(calls);
  }
  return message;
}

ordered_json response_head(const ResponseMeta& meta, const char* object) {
  return ordered_json{{"id", meta.id}, {"object", object}, {"created", unix_seconds(meta.created)}, {"model", meta.model}};
}

class OpenAIStream final : public StreamFormatter {
 public:
  OpenAIStream(const GenerationRequest& request, ResponseMeta meta)
      : chat_(request.endpoint == ApiEndpoint::OpenAIChatCompletions),
        choices_(static_cast<std::size_t>(request.n)),
        logprobs_(request.logprobs.enabled),
        include_usage_(request.include_usage),
        meta_(std::move(meta)),
        tool_calls_(choices_, 0),
        text_offsets_(choices_, 0) {}

  std::string_view content_type() const override { return "text/event-stream"; }
  bool finished() const override { return done_; }

  std::string write(const GenerationEvent& event) override {
    if (done_) return {};
    std::string out = started_ ? std::string() : open();
    std::visit([&](const auto& e) { out += on(e); }, event);
    return out;
  }

  std::string write_error(const ProtocolError& error) override {
    if (done_) return {};
    done_ = true;
    return sse_data(error_body(error));
  }

 private:
  std::string open() {
    started_ = true;
    if (!chat_) return {};
    std::string out;
    for (std::size_t i = 0; i < choices_; ++i) out += chunk(i, {{"role", "assistant"}, {"content", ""}});
    return out;
  }

  bool live(std::size_t choice) const { return choice < choices_ && finished_choices_.count(choice) == 0; }

  // One chunk for one choice. For chat, `delta` is the delta object; for completions its
  // "text" member is the text.
  std::string chunk(std::size_t choice, ordered_json delta, const char* finish_reason = nullptr,
                    ordered_json logprobs = nullptr) {
    ordered_json body = response_head(meta_, chat_ ? "chat.completion.chunk" : "text_completion");
    ordered_json entry;
    if (chat_) {
      entry = {{"index", choice}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)}};
    } else {
      entry = {{"text", delta.value("text", "")}, {"index", choice}, {"logprobs", std::move(logprobs)}};
    }
    entry["finish_reason"] = finish_reason ? ordered_json(finish_reason) : ordered_json(nullptr);
    body["choices"] = ordered_json::array({std::move(entry)});
    if (include_usage_) body["usage"] = nullptr;
    return sse_data(body);
  }

  std::string on(const StreamStarted&) { return {}; }

  std::string on(const ReasoningDelta& delta) {
    if (!chat_ || !live(delta.choice) || delta.text.empty()) return {};
    return chunk(delta.choice, {{"reasoning_content", delta.text}});
  }

  std::string on(const ContentDelta& delta) {
    if (!live(delta.choice) || (delta.text.empty() && delta.logprobs.empty())) return {};
    ordered_json logprobs = nullptr;
    if (logprobs_) {
      if (chat_) {
        logprobs = {{"content", token_logprobs_json(delta.logprobs)}};
      } else {
        logprobs = completion_logprobs(delta.logprobs, text_offsets_[delta.choice]);
      }
    }
    text_offsets_[delta.choice] += delta.text.size();
    return chunk(delta.choice, chat_ ? ordered_json{{"content", delta.text}} : ordered_json{{"text", delta.text}},
                 nullptr, std::move(logprobs));
  }

  std::string on(const ToolCallCompleted& event) {
    if (!chat_ || !live(event.choice)) return {};
    ordered_json call = tool_call_json(with_id(event.call, ApiProtocol::OpenAI));
    ordered_json indexed{{"index", tool_calls_[event.choice]++}};
    indexed.update(call);
    return chunk(event.choice, {{"tool_calls", ordered_json::array({std::move(indexed)})}});
  }

  std::string on(const ChoiceFinished& event) {
    if (!live(event.choice)) return {};
    finished_choices_.insert(event.choice);
    return chunk(event.choice, chat_ ? ordered_json::object() : ordered_json{{"text", ""}},
                 finish_reason_text(event.reason));
  }

  std::string on(const StreamFinished& event) {
    std::string out;
    for (std::size_t i = 0; i < choices_; ++i) {
      if (live(i)) out += on(ChoiceFinished{i, FinishReason::Cancelled, std::nullopt});
    }
    if (include_usage_) {
      ordered_json body = response_head(meta_, chat_ ? "chat.completion.chunk" : "text_completion");
      body["choices"] = ordered_json::array();
      body["usage"] = usage_json(event.usage, chat_);
      out += sse_data(body);
    }
    done_ = true;
    return out + "data: [DONE]\n\n";
  }

  bool chat_;
  std::size_t choices_;
  bool logprobs_;
  bool include_usage_;
  ResponseMeta meta_;
  bool started_ = false;
  bool done_ = false;
  std::set<std::size_t> finished_choices_;
  std::vector<std::size_t> tool_calls_;    // per choice: index of the next tool call
  std::vector<std::size_t> text_offsets_;  // per choice: bytes of text so far (completions)
};

}  // namespace

ordered_json response_body(const GenerationRequest& request, const GenerationOutcome& outcome,
                           const ResponseMeta& meta) {
  const bool chat = request.endpoint != ApiEndpoint::OpenAICompletions;
  ordered_json body = response_head(meta, chat ? "chat.completion" : "text_completion");
  ordered_json choices = ordered_json::array();
  for (const FinishedChoice& choice : outcome.choices) {
    ordered_json logprobs = nullptr;
    if (request.logprobs.enabled) {
      logprobs = chat ? ordered_json{{"content", token_logprobs_json(choice.logprobs)}}
                      : completion_logprobs(choice.logprobs, 0);
    }
    if (chat) {
      choices.push_back({{"index", choice.index},
                         {"message", chat_message_json(request, choice)},
                         {"logprobs", std::move(logprobs)},
                         {"finish_reason", finish_reason_text(choice.finish_reason)}});
    } else {
      choices.push_back({{"text", choice.content},
                         {"index", choice.index},
                         {"logprobs", std::move(logprobs)},
                         {"finish_reason", finish_reason_text(choice.finish_reason)}});
    }
  }
  body["choices"] = std::move(choices);
  body["usage"] = usage_json(outcome.usage, chat);
  return body;
}

std::unique_ptr<StreamFormatter> make_stream_formatter(const GenerationRequest& request, ResponseMeta meta) {
  return std::make_unique<OpenAIStream>(request, std::move(meta));
}

ordered_json error_body(const ProtocolError& error) {
  std::string type = error.type;
  if (type == "api_error" || type == "overloaded_error") type = "server_error";
  if (type == "not_found_error" || type == "request_too_large") type = "invalid_request_error";
  return ordered_json{{"error",
                       {{"message", error.message},
                        {"type", type},
                        {"param", error.param.empty() ? ordered_json(nullptr) : ordered_json(error.param)},
                        {"code", error.code.empty() ? ordered_json(nullptr) : ordered_json(error.code)}}}};
}

ordered_json models_body(const std::vector<ModelFacts>& models) {
  ordered_json data = ordered_json::array();
  for (const ModelFacts& model : models) {
    data.push_back(
        {{"id", model.name}, {"object", "model"}, {"created", unix_seconds(model.modified)}, {"owned_by", "lightseek"}});
  }
  return ordered_json{{"object", "list"}, {"data", std::move(data)}};
}

}  // namespace lightseek::server::openai

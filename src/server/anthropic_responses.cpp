// Anthropic response bodies, stream events and errors.
#include "server/anthropic_protocol.h"
#include "server/response_common.h"

namespace lightseek::server::anthropic {

namespace {

using nlohmann::ordered_json;
using namespace responses;

ordered_json stop_reason(FinishReason reason, const std::optional<std::string>& stop_sequence) {
  switch (reason) {
    case FinishReason::Length:
      return "max_tokens";
    case FinishReason::ToolCalls:
      return "tool_use";
    case FinishReason::Stop:
      return stop_sequence ? "stop_sequence" : "end_turn";
    case FinishReason::Cancelled:
      return "end_turn";  // Anthropic has no word for it; the turn ended early
  }
  return "end_turn";
}

ordered_json optional_text(const std::optional<std::string>& text) {
  return text ? ordered_json(*text) : ordered_json(nullptr);
}

// Anthropic counts cache reads apart from input_tokens: the three add up to the prompt.
ordered_json usage_json(int64_t prompt_tokens, int64_t cached_tokens, int64_t output_tokens) {
  return ordered_json{{"input_tokens", prompt_tokens - cached_tokens},
                      {"cache_creation_input_tokens", 0},
                      {"cache_read_input_tokens", cached_tokens},
                      {"output_tokens", output_tokens}};
}

ordered_json thinking_block(const std::string& text) {
  // lightseek does not sign reasoning; the empty signature keeps the block's shape.
  return ordered_json{{"type", "thinking"}, {"thinking", text}, {"signature", ""}};
}

ordered_json tool_use_block(const ToolCall& call, ordered_json input) {
  return ordered_json{{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", std::move(input)}};
}

class AnthropicStream final : public StreamFormatter {
 public:
  explicit AnthropicStream(ResponseMeta meta) : meta_(std::move(meta)) {}

  std::string_view content_type() const override { return "text/event-stream"; }
  bool finished() const override { return done_; }

  std::string write(const GenerationEvent& event) override {
    if (done_) return {};
    std::string out;
    if (!started_ && !std::holds_alternative<StreamStarted>(event)) out += open(StreamStarted{});
    std::visit([&](const auto& e) { out += on(e); }, event);
    return out;
  }

  std::string write_error(const ProtocolError& error) override {
    if (done_) return {};
    done_ = true;
    return sse_event("error", error_body(error));
  }

 private:
  enum class Block { None, Thinking, Text };

  std::string open(const StreamStarted& start) {
    started_ = true;
    prompt_tokens_ = start.prompt_tokens;
    cached_tokens_ = start.cached_prompt_tokens;
    ordered_json message{{"id", meta_.id},
                         {"type", "message"},
                         {"role", "assistant"},
                         {"model", meta_.model},
                         {"content", ordered_json::array()},
                         {"stop_reason", nullptr},
                         {"stop_sequence", nullptr},
                         {"usage", usage_json(prompt_tokens_, cached_tokens_, 0)}};
    return sse_event("message_start", {{"type", "message_start"}, {"message", std::move(message)}});
  }

  std::string close_block() {
    if (open_block_ == Block::None) return {};
    open_block_ = Block::None;
    return sse_event("content_block_stop", {{"type", "content_block_stop"}, {"index", next_index_++}});
  }

  std::string start_block(ordered_json block) {
    return sse_event("content_block_start",
                     {{"type", "content_block_start"}, {"index", next_index_}, {"content_block", std::move(block)}});
  }

  std::string delta(ordered_json delta) {
    return sse_event("content_block_delta",
                     {{"type", "content_block_delta"}, {"index", next_index_}, {"delta", std::move(delta)}});
  }

  // Text of one kind goes into the open block of that kind, or a new one after closing the
  // other.
  std::string append_text(Block kind, const std::string& text) {
    if (text.empty()) return {};
    std::string out;
    if (open_block_ != kind) {
      out += close_block();
      out += start_block(kind == Block::Thinking ? thinking_block("")
                                                 : ordered_json{{"type", "text"}, {"text", ""}});
      open_block_ = kind;
    }
    if (kind == Block::Thinking) return out + delta({{"type", "thinking_delta"}, {"thinking", text}});
    return out + delta({{"type", "text_delta"}, {"text", text}});
  }

  bool live(std::size_t choice) const { return choice == 0 && !choice_finished_; }

  std::string on(const StreamStarted& start) { return started_ ? std::string() : open(start); }
  std::string on(const ReasoningDelta& event) { return live(event.choice) ? append_text(Block::Thinking, event.text) : ""; }
  std::string on(const ContentDelta& event) { return live(event.choice) ? append_text(Block::Text, event.text) : ""; }

  std::string on(const ToolCallCompleted& event) {
    if (!live(event.choice)) return {};
    const ToolCall call = with_id(event.call, ApiProtocol::Anthropic);
    std::string out = close_block();
    out += start_block(tool_use_block(call, ordered_json::object()));
    out += delta({{"type", "input_json_delta"}, {"partial_json", arguments_text(call)}});
    out += sse_event("content_block_stop", {{"type", "content_block_stop"}, {"index", next_index_++}});
    return out;
  }

  std::string on(const ChoiceFinished& event) {
    if (!live(event.choice)) return {};
    choice_finished_ = true;
    reason_ = event.reason;
    stop_sequence_ = event.stop_sequence;
    return close_block();
  }

  std::string on(const StreamFinished& event) {
    std::string out = choice_finished_ ? std::string() : on(ChoiceFinished{0, FinishReason::Cancelled, std::nullopt});
    const Usage& usage = event.usage;
    out += sse_event("message_delta",
                     {{"type", "message_delta"},
                      {"delta", {{"stop_reason", stop_reason(reason_, stop_sequence_)},
                                 {"stop_sequence", optional_text(stop_sequence_)}}},
                      {"usage", usage_json(usage.prompt_tokens, usage.cached_prompt_tokens, usage.completion_tokens)}});
    out += sse_event("message_stop", {{"type", "message_stop"}});
    done_ = true;
    return out;
  }

  ResponseMeta meta_;
  bool started_ = false;
  bool done_ = false;
  int64_t prompt_tokens_ = 0;
  int64_t cached_tokens_ = 0;
  Block open_block_ = Block::None;
  std::size_t next_index_ = 0;  // index of the open block, or of the next one
  bool choice_finished_ = false;
  FinishReason reason_ = FinishReason::Cancelled;
  std::optional<std::string> stop_sequence_;
};

}  // namespace

ordered_json response_body(const GenerationRequest&, const GenerationOutcome& outcome, const ResponseMeta& meta) {
  ordered_json content = ordered_json::array();
  FinishReason reason = FinishReason::Cancelled;
  std::optional<std::string> stop_sequence;
  if (!outcome.choices.empty()) {
    const FinishedChoice& choice = outcome.choices.front();
    if (!choice.reasoning.empty()) content.push_back(thinking_block(choice.reasoning));
    if (!choice.content.empty()) content.push_back({{"type", "text"}, {"text", choice.content}});
    for (const ToolCall& call : choice.tool_calls) {
      const ToolCall with_identity = with_id(call, ApiProtocol::Anthropic);
      content.push_back(tool_use_block(with_identity, with_identity.arguments));
    }
    reason = choice.finish_reason;
    stop_sequence = choice.stop_sequence;
  }
  const Usage& usage = outcome.usage;
  return ordered_json{{"id", meta.id},
                      {"type", "message"},
                      {"role", "assistant"},
                      {"model", meta.model},
                      {"content", std::move(content)},
                      {"stop_reason", stop_reason(reason, stop_sequence)},
                      {"stop_sequence", optional_text(stop_sequence)},
                      {"usage", usage_json(usage.prompt_tokens, usage.cached_prompt_tokens, usage.completion_tokens)}};
}

ordered_json count_tokens_body(int64_t input_tokens) { return ordered_json{{"input_tokens", input_tokens}}; }

std::unique_ptr<StreamFormatter> make_stream_formatter(const GenerationRequest&, ResponseMeta meta) {
  return std::make_unique<AnthropicStream>(std::move(meta));
}

ordered_json error_body(const ProtocolError& error) {
  return ordered_json{{"type", "error"}, {"error", {{"type", error.type}, {"message", error.message}}}};
}

}  // namespace lightseek::server::anthropic

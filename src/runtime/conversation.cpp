#include "runtime/conversation.h"

#include <fstream>

#include "core/error.h"

namespace lightseek {

std::string_view effort_name(ReasoningEffort effort) {
  switch (effort) {
    case ReasoningEffort::Default: return "default";
    case ReasoningEffort::High: return "high";
    case ReasoningEffort::Max: return "max";
  }
  return "default";
}

ReasoningEffort parse_effort(std::string_view name) {
  if (name == "default" || name.empty()) return ReasoningEffort::Default;
  if (name == "high") return ReasoningEffort::High;
  if (name == "max") return ReasoningEffort::Max;
  fail("reasoning effort must be default, high or max, got '", name, "'");
}

Conversation::Conversation(Session& session, const Tokenizer& tokenizer) : session_(session), tokenizer_(tokenizer) {}

void Conversation::set_system(const std::string& text) {
  if (!messages_.empty() && messages_.front().role == "system") messages_.erase(messages_.begin());
  if (text.empty()) return;
  ChatMessage system;
  system.role = "system";
  system.content = text;
  messages_.insert(messages_.begin(), std::move(system));
}

void Conversation::clear() {
  const bool has_system = !messages_.empty() && messages_.front().role == "system";
  messages_.erase(messages_.begin() + (has_system ? 1 : 0), messages_.end());
}

std::vector<int32_t> Conversation::prompt_tokens() const { return tokenizer_.encode(encode_chat(messages_, options_)); }

// Checkpoints right after each <｜Assistant｜> token: the next turn's prompt renders earlier
// assistant turns differently from how they were generated (their reasoning is dropped, and
// re-tokenised text may split differently), so that is where histories part.
std::vector<int64_t> Conversation::checkpoint_positions(const std::vector<int32_t>& tokens) const {
  std::vector<int64_t> positions;
  const auto assistant = tokenizer_.token_id("<｜Assistant｜>");
  if (!assistant) return positions;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == *assistant) positions.push_back(static_cast<int64_t>(i + 1));
  }
  return positions;
}

TurnResult Conversation::ask(const std::string& user_text, GenerationSettings settings,
                             const std::function<void(const ParsedDelta&)>& on_delta,
                             const std::atomic<bool>* cancel) {
  ChatMessage user;
  user.role = "user";
  user.content = user_text;
  messages_.push_back(std::move(user));
  TurnResult turn;
  try {
    const std::vector<int32_t> prompt = prompt_tokens();
    turn.prompt_tokens = static_cast<int64_t>(prompt.size());
    turn.prefill = session_.prefill(prompt, checkpoint_positions(prompt));
    settings.mode = options_.thinking;
    turn.generation = generate(session_, tokenizer_, settings, on_delta, cancel);
  } catch (...) {
    messages_.pop_back();
    throw;
  }
  const GenerationResult& g = turn.generation;
  ChatMessage reply;
  reply.role = "assistant";
  reply.content = g.content;
  reply.reasoning_content = g.reasoning;
  reply.tool_calls = g.tool_calls;
  messages_.push_back(std::move(reply));
  return turn;
}

void Conversation::save(const std::filesystem::path& file) const {
  nlohmann::ordered_json json;
  json["thinking"] = options_.thinking == ThinkingMode::Thinking;
  json["effort"] = std::string(effort_name(options_.effort));
  json["messages"] = nlohmann::ordered_json::array();
  for (const ChatMessage& message : messages_) {
    nlohmann::ordered_json m = {{"role", message.role}, {"content", message.content}};
    if (!message.reasoning_content.empty()) m["reasoning_content"] = message.reasoning_content;
    if (!message.tool_calls.empty()) {
      m["tool_calls"] = nlohmann::ordered_json::array();
      for (const ToolCall& call : message.tool_calls) {
        m["tool_calls"].push_back(
            {{"id", call.id}, {"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments.dump()}}}});
      }
    }
    json["messages"].push_back(std::move(m));
  }
  std::ofstream out(file, std::ios::trunc);
  out << json.dump(2) << "\n";
  if (!out) fail(file.string(), ": cannot write");
}

void Conversation::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) fail(file.string(), ": cannot read");
  const auto json = nlohmann::ordered_json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("messages")) {
    fail(file.string(), ": not a saved conversation (expected a JSON object with \"messages\")");
  }
  std::vector<ChatMessage> messages;
  try {
    messages = parse_chat_messages(json["messages"]);
  } catch (const Error& error) {
    fail(file.string(), ": ", error.what());
  }
  EncodeOptions options = options_;
  if (json.contains("thinking")) {
    if (!json["thinking"].is_boolean()) fail(file.string(), ": \"thinking\" must be true or false");
    options.thinking = json["thinking"].get<bool>() ? ThinkingMode::Thinking : ThinkingMode::Chat;
  }
  if (json.contains("effort")) {
    if (!json["effort"].is_string()) fail(file.string(), ": \"effort\" must be a string");
    options.effort = parse_effort(json["effort"].get<std::string>());
  }
  messages_ = std::move(messages);
  options_ = options;
}

}  // namespace lightseek

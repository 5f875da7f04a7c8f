// A chat conversation: its messages and encoding options, rendered to prompt tokens and run
// through a Session so each turn processes only what the previous turns did not. Saved and
// loaded as JSON: {"thinking": bool, "effort": "default|high|max", "messages": [OpenAI-style]}.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runtime/generator.h"
#include "runtime/session.h"
#include "text/chat_encoder.h"
#include "text/tokenizer.h"

namespace lightseek {

struct TurnResult {
  PrefillStats prefill;
  int64_t prompt_tokens = 0;
  GenerationResult generation;
};

class Conversation {
 public:
  Conversation(Session& session, const Tokenizer& tokenizer);

  EncodeOptions& options() { return options_; }
  const std::vector<ChatMessage>& messages() const { return messages_; }
  void set_system(const std::string& text);  // replaces or removes (empty) the system message
  void clear();

  // Adds the user message, prefills the rendered prompt (reusing the session's state) and
  // generates the reply, which is appended as the assistant message (unless cancelled before
  // producing anything).
  TurnResult ask(const std::string& user_text, GenerationSettings settings,
                 const std::function<void(const ParsedDelta&)>& on_delta, const std::atomic<bool>* cancel = nullptr);

  // The token ids of the prompt for the current messages (ending with the assistant prefix).
  std::vector<int32_t> prompt_tokens() const;

  void save(const std::filesystem::path& file) const;
  // Replaces the conversation; throws Error for unreadable files and invalid contents.
  void load(const std::filesystem::path& file);

 private:
  std::vector<int64_t> checkpoint_positions(const std::vector<int32_t>& tokens) const;

  Session& session_;
  const Tokenizer& tokenizer_;
  EncodeOptions options_;
  std::vector<ChatMessage> messages_;
};

std::string_view effort_name(ReasoningEffort effort);
// "default", "high" or "max"; throws Error otherwise.
ReasoningEffort parse_effort(std::string_view name);

}  // namespace lightseek

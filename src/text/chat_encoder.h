// The DeepSeek-V4 prompt encoder (spec §12.2), a port of the official encoding_dsv4.py:
// OpenAI-style messages (plus V4's latest_reminder/developer roles and tasks) → prompt text.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace lightseek {

enum class ThinkingMode { Chat, Thinking };
enum class ReasoningEffort { Default, High, Max };

struct ToolCall {
  std::string id;
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // key order kept
};

struct ChatMessage {
  std::string role;  // system, user, assistant, tool, developer, latest_reminder
  // A string, or for user and tool messages an array of content blocks kept as JSON:
  //   {"type": "text", "text": ...}; in user messages also
  //   {"type": "tool_result", "tool_use_id": ..., "content": string or blocks};
  //   any other type is written as "[Unsupported <type>]".
  // Null reads as "" for system, user, assistant and tool messages.
  nlohmann::ordered_json content;
  std::string reasoning_content;
  std::vector<ToolCall> tool_calls;
  std::string tool_call_id;                // role tool; empty when absent
  std::optional<std::string> task;         // e.g. "action"
  nlohmann::ordered_json tools;            // tools attached to this message (system/developer), or null
  nlohmann::ordered_json response_format;  // or null
  bool without_eos = false;                // "wo_eos"
};

struct EncodeOptions {
  ThinkingMode thinking = ThinkingMode::Chat;
  ReasoningEffort effort = ReasoningEffort::Default;
  bool drop_thinking = true;  // forced off when any message carries tools
  bool add_bos = true;        // false when continuing an already encoded context
  // The first context_size messages were encoded before (encoding_dsv4's `context`): they are
  // not written again, and no BOS is, but they still decide what the rest looks like (the last
  // user message, dropped reasoning, tool-result order, transitions).
  std::size_t context_size = 0;
};

// Parses an OpenAI-style message list (or an object {"messages": [...], "tools": [...],
// "response_format": ...}: tools and response format attach as attach_request_options does,
// which for DeepSeek's tests means to the first message). Other keys of the object and of
// messages (e.g. "mask", "name") are ignored. Throws Error naming the message index and field for
// invalid JSON shapes, unknown roles and tasks, tool calls without a name, and arguments that
// are not a JSON object or a JSON string holding one.
std::vector<ChatMessage> parse_chat_messages(const nlohmann::ordered_json& json);

// Gives a conversation the tools and/or response format of a request (null or empty: none).
// They go on the first message when it is a system or developer message; otherwise an empty
// system message carrying them is put in front, since V4 writes tools only into system and
// developer messages. Throws Error if that message already has tools (or a response format).
void attach_request_options(std::vector<ChatMessage>& messages, const nlohmann::ordered_json& tools,
                            const nlohmann::ordered_json& response_format);

// Renders messages into the exact prompt text. Checks every message first (messages built in
// C++ may hold anything): throws Error naming the message index for what parse_chat_messages
// rejects, for strings that are not valid UTF-8, and for conversations the format cannot
// express: a tool result with no earlier assistant tool call, or, when several tool results
// must be put in the order of the assistant's tool calls, one without a matching tool_call_id.
std::string encode_chat(const std::vector<ChatMessage>& messages, const EncodeOptions& options);

}  // namespace lightseek

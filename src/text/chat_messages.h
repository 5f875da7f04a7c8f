// Internal to src/text: the checks shared by parse_chat_messages and encode_chat, and the task
// table lookup. Public declarations are in chat_encoder.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "text/chat_encoder.h"

namespace lightseek::chat_detail {

// Throws Error ("message N (role): ...") when the message cannot be encoded: unknown role or
// task, content of the wrong type for the role, tool calls on a non-assistant message or
// without a name or with non-object arguments, malformed tools, strings that are not UTF-8.
void validate_chat_message(const ChatMessage& message, std::size_t index);

// The token written for a task name, if V4 has one.
std::optional<std::string_view> task_token(std::string_view task);

// "a string", "an array", ... for error messages.
const char* json_kind(const nlohmann::ordered_json& value);

// Python truthiness of a JSON value, which is what decides in encoding_dsv4 whether optional
// fields such as tools and response_format count as present.
bool python_truthy(const nlohmann::ordered_json& value);

}  // namespace lightseek::chat_detail

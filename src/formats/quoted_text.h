// Text from a checkpoint's own files (names, JSON values, parser messages) quoted in error
// messages, cut to a length a terminal line can show.
#pragma once

#include <exception>
#include <string>

namespace lightseek {

// At most 160 bytes of whole UTF-8 characters, with "..." when something was cut.
std::string shortened(std::string text);

// A nlohmann::json::exception's message without its "[json.exception.parse_error.101] " prefix,
// shortened.
std::string json_reason(const std::exception& error);

}  // namespace lightseek

// Request bodies in and JSON text out, at the boundary with the HTTP layer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/protocol_error.h"

namespace lightseek::server {

// Parses a request body that must be one JSON object. Malformed JSON, invalid UTF-8 (nlohmann
// checks strings, and lone surrogate escapes) and nesting deeper than max_depth (checked
// before parsing, so hostile input cannot exhaust the stack of code that walks the value) are
// 400s whose message gives the byte offset.
ProtocolResult<nlohmann::ordered_json> parse_json_body(std::string_view body, std::size_t max_depth = 64);

// Compact JSON text of a value to send. Strings that are not valid UTF-8 (which generated text
// never is, but a bug must not turn into an exception mid-stream) get U+FFFD instead.
std::string to_json_text(const nlohmann::ordered_json& value);

}  // namespace lightseek::server

#include "server/json_body.h"

#include <optional>

#include "core/error.h"

namespace lightseek::server {

namespace {

using nlohmann::ordered_json;

// Offset of the first bracket beyond max_depth, skipping string contents.
std::optional<std::size_t> too_deep_at(std::string_view body, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace

ProtocolResult<ordered_json> parse_json_body(std::string_view body, std::size_t max_depth) {
  if (const auto at = too_deep_at(body, max_depth)) {
    return invalid_request("", str_cat("request body nests JSON deeper than ", max_depth, " levels (byte ", *at, ")"));
  }
  ordered_json value;
  try {
    value = ordered_json::parse(body.begin(), body.end());
  } catch (const ordered_json::parse_error& error) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    const std::string what = error.what();
    const std::size_t start = what.find("] ");
    return invalid_request("", str_cat("request body is not valid JSON (byte ", error.byte, "): ",
                                       start == std::string::npos ? what : what.substr(start + 2)));
  } catch (const ordered_json::out_of_range& error) {
    // A number too large for a double ("1e999") is well-formed JSON that nlohmann refuses.
    const std::string what = error.what();
    const std::size_t start = what.find("] ");
    return invalid_request("", str_cat("request body has a number out of range: ",
                                       start == std::string::npos ? what : what.substr(start + 2)));
  }
  if (!value.is_object()) {
    return invalid_request("", "request body must be a JSON object");
  }
  return value;
}

std::string to_json_text(const ordered_json& value) {
  return value.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace lightseek::server

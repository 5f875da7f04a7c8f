// Shared helpers of the server protocol tests.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/generation_events.h"
#include "server/protocol_error.h"

namespace lightseek::server::testing {

using nlohmann::ordered_json;

inline ordered_json json(std::string_view text) { return ordered_json::parse(text); }

// Fixed identity so bodies and streams compare byte for byte: 2023-11-14T22:13:20Z.
inline ResponseMeta fixed_meta(std::string id) {
  return ResponseMeta{std::move(id), "deepseek-v4-flash",
                      std::chrono::system_clock::time_point(std::chrono::seconds(1700000000))};
}

// The error's status and param, or a failure naming what was returned instead.
template <typename T>
::testing::AssertionResult fails_with(const ProtocolResult<T>& result, int status, const std::string& param) {
  if (result.ok()) return ::testing::AssertionFailure() << "accepted, expected a " << status << " at '" << param << "'";
  const ProtocolError& error = result.error();
  if (error.http_status != status || error.param != param) {
    return ::testing::AssertionFailure() << "got " << error.http_status << " at '" << error.param
                                         << "': " << error.message;
  }
  if (error.message.empty()) return ::testing::AssertionFailure() << "empty message";
  return ::testing::AssertionSuccess();
}

// The tool call the protocol tests send and expect: get_weather for Paris.
inline ToolCall weather_call(std::string id = "") {
  ToolCall call;
  call.id = std::move(id);
  call.name = "get_weather";
  call.arguments = json(R"({"city": "Paris"})");
  return call;
}

// True when `id` is `prefix` followed by exactly `length` ASCII letters or digits. (std::regex would
// do, but GCC 12 warns inside <regex> under -fsanitize, which -Werror turns into a failed build.)
inline ::testing::AssertionResult has_id_shape(const std::string& id, std::string_view prefix, size_t length = 24) {
  const bool shaped = id.size() == prefix.size() + length && id.compare(0, prefix.size(), prefix) == 0 &&
                      std::all_of(id.begin() + static_cast<std::ptrdiff_t>(prefix.size()), id.end(), [](char c) {
                        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
                      });
  if (shaped) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << id << "' is not " << prefix << " and " << length << " letters or digits";
}

}  // namespace lightseek::server::testing

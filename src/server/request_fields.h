// Reading request JSON field by field with errors that name the field: the shared machinery of
// the three protocol parsers. Internal to src/server.
//
// Parsers throw ProtocolFailure from deep inside and catch it once at their public function,
// which returns the ProtocolError as a value; that keeps each parser a straight read of its
// API's schema. JSON null counts as absent, as in all three APIs' SDKs.
#pragma once

#include <cstdint>
#include <exception>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/protocol_error.h"

namespace lightseek::server::fields {

using nlohmann::ordered_json;

class ProtocolFailure : public std::exception {
 public:
  explicit ProtocolFailure(ProtocolError error) : error_(std::move(error)) {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const ProtocolError& error() const { return error_; }

 private:
  ProtocolError error_;
};

// Throws a 400 for `param`; the message is "'param' " + what (or just `what` without a param).
[[noreturn]] void reject(const std::string& param, const std::string& what);

// "a string", "an array", "null", ... for messages.
const char* json_kind(const ordered_json& value);

// "a.b", "a[3]" paths in OpenAI's param style.
std::string member_path(const std::string& parent, std::string_view key);
std::string element_path(const std::string& parent, std::size_t index);

// The fields of one JSON object. Every key looked at (read or explicitly ignored) counts as
// known; reject_unknown() refuses the rest, so typos and unsupported features get a clear 400
// instead of silently doing nothing.
class ObjectReader {
 public:
  // Throws ProtocolFailure unless `object` is an object. `path` names it ("" for the body).
  ObjectReader(const ordered_json& object, std::string path);

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return member_path(path_, key); }
  bool has(std::string_view key);  // present and not null

  // Present and not null, else nullptr.
  const ordered_json* find(std::string_view key);
  const ordered_json& require(std::string_view key);  // 400 when absent or null

  std::optional<std::string> string(std::string_view key);  // checked for valid UTF-8
  std::string required_string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<double> number(std::string_view key, double min, double max);
  // JSON integers (or integral floats) within [min, max].
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  const ordered_json* array(std::string_view key);   // 400 when present and not an array
  const ordered_json* object(std::string_view key);  // 400 when present and not an object

  // Accepted for compatibility and deliberately without effect.
  void ignore(std::initializer_list<std::string_view> keys);
  void reject_unknown() const;

 private:
  const ordered_json& object_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

// A string value at `path`, checked for valid UTF-8 (the HTTP body parser already rejects bad
// UTF-8; this covers requests built in code).
std::string checked_string(const ordered_json& value, const std::string& path);

}  // namespace lightseek::server::fields

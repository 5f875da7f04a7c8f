#include "server/request_fields.h"

#include <cmath>

#include "core/error.h"
#include "text/utf8.h"

namespace lightseek::server::fields {

void reject(const std::string& param, const std::string& what) {
  throw ProtocolFailure(invalid_request(param, param.empty() ? what : "'" + param + "' " + what));
}

const char* json_kind(const ordered_json& value) {
  switch (value.type()) {
    case ordered_json::value_t::string:
      return "a string";
    case ordered_json::value_t::array:
      return "an array";
    case ordered_json::value_t::object:
      return "an object";
    case ordered_json::value_t::boolean:
      return "a boolean";
    case ordered_json::value_t::number_integer:
    case ordered_json::value_t::number_unsigned:
    case ordered_json::value_t::number_float:
      return "a number";
    case ordered_json::value_t::binary:
      return "binary data";
    default:
      return "null";
  }
}

std::string member_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string element_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string checked_string(const ordered_json& value, const std::string& path) {
  if (!value.is_string()) reject(path, str_cat("must be a string, got ", json_kind(value)));
  const std::string& text = value.get_ref<const std::string&>();
  if (const auto bad = utf8::first_invalid_offset(text)) {
    reject(path, str_cat("is not valid UTF-8 (byte ", *bad, ")"));
  }
  return text;
}

ObjectReader::ObjectReader(const ordered_json& object, std::string path) : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) {
    if (path_.empty()) reject("", "request body must be a JSON object");
    reject(path_, str_cat("must be an object, got ", json_kind(object_)));
  }
}

const ordered_json* ObjectReader::find(std::string_view key) {
  known_.emplace(key);
  const auto found = object_.find(key);
  if (found == object_.end() || found->is_null()) return nullptr;
  return &*found;
}

bool ObjectReader::has(std::string_view key) { return find(key) != nullptr; }

const ordered_json& ObjectReader::require(std::string_view key) {
  const ordered_json* value = find(key);
  if (!value) reject(path_of(key), "is required");
  return *value;
}

std::optional<std::string> ObjectReader::string(std::string_view key) {
  const ordered_json* value = find(key);
  if (!value) return std::nullopt;
  return checked_string(*value, path_of(key));
}

std::string ObjectReader::required_string(std::string_view key) { return checked_string(require(key), path_of(key)); }

std::optional<bool> ObjectReader::boolean(std::string_view key) {
  const ordered_json* value = find(key);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) reject(path_of(key), str_cat("must be a boolean, got ", json_kind(*value)));
  return value->get<bool>();
}

std::optional<double> ObjectReader::number(std::string_view key, double min, double max) {
  const ordered_json* value = find(key);
  if (!value) return std::nullopt;
  if (!value->is_number()) reject(path_of(key), str_cat("must be a number, got ", json_kind(*value)));
  const double number = value->get<double>();
  if (!std::isfinite(number) || number < min || number > max) {
    reject(path_of(key), str_cat("must be between ", min, " and ", max, ", got ", value->dump()));
  }
  return number;
}

std::optional<int64_t> ObjectReader::integer(std::string_view key, int64_t min, int64_t max) {
  const ordered_json* value = find(key);
  if (!value) return std::nullopt;
  const std::string path = path_of(key);
  int64_t number = 0;
  if (value->is_number_unsigned()) {
    const uint64_t unsigned_value = value->get<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(max)) {
      reject(path, str_cat("must be between ", min, " and ", max, ", got ", value->dump()));
    }
    number = static_cast<int64_t>(unsigned_value);
  } else if (value->is_number_integer()) {
    number = value->get<int64_t>();
  } else if (value->is_number_float()) {
    // JavaScript clients cannot tell 16 from 16.0; a fractional count is still an error.
    const double real = value->get<double>();
    if (!std::isfinite(real) || std::trunc(real) != real || std::fabs(real) > 9.0e15) {
      reject(path, str_cat("must be an integer, got ", value->dump()));
    }
    number = static_cast<int64_t>(real);
  } else {
    reject(path, str_cat("must be an integer, got ", json_kind(*value)));
  }
  if (number < min || number > max) reject(path, str_cat("must be between ", min, " and ", max, ", got ", number));
  return number;
}

const ordered_json* ObjectReader::array(std::string_view key) {
  const ordered_json* value = find(key);
  if (value && !value->is_array()) reject(path_of(key), str_cat("must be an array, got ", json_kind(*value)));
  return value;
}

const ordered_json* ObjectReader::object(std::string_view key) {
  const ordered_json* value = find(key);
  if (value && !value->is_object()) reject(path_of(key), str_cat("must be an object, got ", json_kind(*value)));
  return value;
}

void ObjectReader::ignore(std::initializer_list<std::string_view> keys) {
  for (const std::string_view key : keys) known_.emplace(key);
}

void ObjectReader::reject_unknown() const {
  for (auto member = object_.begin(); member != object_.end(); ++member) {
    if (known_.find(member.key()) == known_.end()) {
      // The key itself may be the bad UTF-8; keep the message printable.
      const std::string key = utf8::to_valid_lossy(member.key());
      reject(member_path(path_, key), "is not a supported field");
    }
  }
}

}  // namespace lightseek::server::fields

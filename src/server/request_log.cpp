#include "server/request_log.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "server/response_ids.h"

namespace lightseek::server {

std::string request_id_for(const std::string& client_value) {
  const bool plain = !client_value.empty() && client_value.size() <= 64 &&
                     std::all_of(client_value.begin(), client_value.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                     });
  return plain ? client_value : "req_" + random_base62(20);
}

std::shared_ptr<RequestRecord> RequestRecords::begin(const std::string& id) {
  auto record = std::make_shared<RequestRecord>();
  record->id = id;
  std::lock_guard lock(mutex_);
  // Two requests may carry the same client id; the later one's record wins the lookups.
  records_[id] = record;
  return record;
}

std::shared_ptr<RequestRecord> RequestRecords::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto it = records_.find(id);
  return it == records_.end() ? nullptr : it->second;
}

std::shared_ptr<RequestRecord> RequestRecords::end(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto it = records_.find(id);
  if (it == records_.end()) return nullptr;
  auto record = it->second;
  records_.erase(it);
  return record;
}

namespace {

// Paths and methods come from the client: no control characters into the log.
std::string printable(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}

}  // namespace

std::string request_log_line(const RequestRecord& record, const std::string& method, const std::string& path,
                             int status, double seconds) {
  char timing[32];
  std::snprintf(timing, sizeof timing, "%.3fs", seconds);
  return "request " + record.id + ' ' + printable(method) + ' ' + printable(path) + ' ' + std::to_string(status) +
         " prompt=" + std::to_string(record.prompt_tokens.load()) +
         " generated=" + std::to_string(record.generated_tokens.load()) + ' ' + timing;
}

}  // namespace lightseek::server

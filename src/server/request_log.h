// Per-request bookkeeping between the moment a request arrives and its last byte: its id (the
// x-request-id header), route, token counts and start time, and the one log line written when
// it is answered: "request ID METHOD PATH STATUS prompt=N generated=M 0.123s".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace lightseek::server {

struct RequestRecord {
  std::string id;
  std::string route = "other";  // the matched route, for metrics labels
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::atomic<int64_t> prompt_tokens{0};
  std::atomic<int64_t> generated_tokens{0};
};

// The client's x-request-id when it is short and plain ([A-Za-z0-9._-], at most 64), else a
// fresh random one.
std::string request_id_for(const std::string& client_value);

class RequestRecords {
 public:
  std::shared_ptr<RequestRecord> begin(const std::string& id);
  std::shared_ptr<RequestRecord> find(const std::string& id) const;
  // Removes and returns the record (nullptr when unknown).
  std::shared_ptr<RequestRecord> end(const std::string& id);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<RequestRecord>> records_;
};

std::string request_log_line(const RequestRecord& record, const std::string& method, const std::string& path,
                             int status, double seconds);

}  // namespace lightseek::server

// Counts the generation responses still being written. httplib stops writing a chunked body
// as soon as its listener stops, so shutdown waits for these before stopping it: a stream the
// scheduler has just finished still gets its last chunk and its end marker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

namespace lightseek::server {

class OpenResponses {
 public:
  // Held for as long as a response is being produced; it has ended when the last copy is gone.
  // The tracker must outlive every hold.
  std::shared_ptr<void> hold();

  // Whether every response ended before `deadline`.
  bool wait_until_none(std::chrono::steady_clock::time_point deadline);

  int64_t open() const;

 private:
  void release();

  mutable std::mutex mutex_;
  std::condition_variable none_open_;
  int64_t open_ = 0;
};

}  // namespace lightseek::server

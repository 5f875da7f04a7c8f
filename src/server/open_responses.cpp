#include "server/open_responses.h"

namespace lightseek::server {

std::shared_ptr<void> OpenResponses::hold() {
  {
    std::lock_guard lock(mutex_);
    ++open_;
  }
  return std::shared_ptr<void>(this, [](OpenResponses* self) { self->release(); });
}

void OpenResponses::release() {
  std::lock_guard lock(mutex_);
  if (--open_ == 0) none_open_.notify_all();
}

bool OpenResponses::wait_until_none(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return none_open_.wait_until(lock, deadline, [&] { return open_ == 0; });
}

int64_t OpenResponses::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace lightseek::server

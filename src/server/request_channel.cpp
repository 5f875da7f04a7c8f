#include "server/request_channel.h"

#include <iterator>
#include <utility>

namespace lightseek::server {

void RequestChannel::push(GenerationEvent event) {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    if (std::holds_alternative<StreamFinished>(event)) ended_ = true;
    events_.push_back(std::move(event));
  }
  ready_.notify_all();
}

void RequestChannel::push(std::vector<GenerationEvent> events) {
  for (GenerationEvent& event : events) push(std::move(event));
}

void RequestChannel::fail(ProtocolError error) {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = true;
    error_ = std::move(error);
  }
  ready_.notify_all();
}

bool RequestChannel::wait_for_events(std::vector<GenerationEvent>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !events_.empty() || ended_; });
  out.insert(out.end(), std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  return !ended_;
}

std::optional<ProtocolError> RequestChannel::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

}  // namespace lightseek::server

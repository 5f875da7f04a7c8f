// The hand-over between the model thread, which produces one request's GenerationEvents, and
// the HTTP thread that writes them: a queue of events that ends with StreamFinished or an
// error, and a cancel flag the HTTP side raises when its client went away.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "server/generation_events.h"
#include "server/protocol_error.h"

namespace lightseek::server {

class RequestChannel {
 public:
  // Model thread.
  void push(GenerationEvent event);
  void push(std::vector<GenerationEvent> events);
  // Ends the stream with an error instead of StreamFinished.
  void fail(ProtocolError error);

  // HTTP thread: waits up to `timeout` for events and moves them into `out` (appending).
  // Returns false once the stream has ended and everything was taken.
  bool wait_for_events(std::vector<GenerationEvent>& out, std::chrono::milliseconds timeout);
  // The error that ended the stream, if one did.
  std::optional<ProtocolError> error() const;

  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<GenerationEvent> events_;
  bool ended_ = false;
  std::optional<ProtocolError> error_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace lightseek::server

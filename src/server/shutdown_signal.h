// SIGINT and SIGTERM turned into a call on an ordinary thread, where shutting a server down is
// safe (a signal handler may do almost nothing). Create the watcher before any other thread:
// threads inherit the blocked signal mask, so the signals reach only the watcher.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace lightseek::server {

class ShutdownSignalWatcher {
 public:
  // `on_signal` receives the signal number, on the watcher's thread, once per signal.
  explicit ShutdownSignalWatcher(std::function<void(int)> on_signal);
  ~ShutdownSignalWatcher();  // stops watching and restores the signal mask of this thread
  ShutdownSignalWatcher(const ShutdownSignalWatcher&) = delete;
  ShutdownSignalWatcher& operator=(const ShutdownSignalWatcher&) = delete;

 private:
  std::function<void(int)> on_signal_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace lightseek::server

#include "server/shutdown_signal.h"

#include <csignal>
#include <ctime>
#include <pthread.h>

namespace lightseek::server {
namespace {

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

ShutdownSignalWatcher::ShutdownSignalWatcher(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
  const sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, set] {
    // A timed wait, so that the destructor can end the thread without sending a signal.
    const timespec interval{0, 100'000'000};
    while (!stop_) {
      const int signal = sigtimedwait(&set, nullptr, &interval);
      if (signal > 0 && on_signal_) on_signal_(signal);
    }
  });
}

ShutdownSignalWatcher::~ShutdownSignalWatcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  const sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace lightseek::server

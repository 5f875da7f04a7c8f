// Admission and stepping of generation requests on the single model thread. Up to `parallel`
// sequences (one per choice) run at once; requests beyond that wait in a bounded queue, and a
// full queue refuses at once (429). Between steps, finished, cancelled and newly admitted
// sequences leave and join, so every step is one backend step over exactly the running set.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "server/generation_request.h"
#include "server/protocol_error.h"
#include "server/request_channel.h"
#include "server/step_backend.h"
#include "text/tokenizer.h"

namespace lightseek::server {

struct SchedulerOptions {
  int parallel = 1;  // sequences that run together
  int queue = 4;     // requests that may wait beyond them
};

// A parsed request with its prompt tokens and budget, ready to run.
struct SchedulerJob {
  GenerationRequest request;
  std::vector<int32_t> prompt;
  int64_t max_tokens = 0;  // already resolved against the context
  std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
};

struct SchedulerLoad {
  int64_t queued_requests = 0;
  int64_t running_sequences = 0;
};

// What the steps did, for throughput metrics. Called on the model thread after every step.
struct StepReport {
  int64_t prompt_tokens = 0;     // prompt tokens run through the backend this step
  int64_t generated_tokens = 0;  // tokens produced this step
  int64_t cancelled_sequences = 0;
  double seconds = 0.0;
};

class Scheduler {
 public:
  Scheduler(StepBackend& backend, const Tokenizer& tokenizer, int32_t eos_id, SchedulerOptions options,
            std::function<void(const StepReport&)> on_step = {});
  ~Scheduler();  // shuts down with no grace and joins the model thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues the job; its events arrive on the returned channel. 429 when the queue is full,
  // 503 once shutting down.
  ProtocolResult<std::shared_ptr<RequestChannel>> submit(SchedulerJob job);

  // Refuses new jobs and ends the queued ones with 503; running ones may finish until
  // `grace` has passed, then they are cancelled. Returns at once; the destructor waits.
  void shutdown(std::chrono::milliseconds grace);

  SchedulerLoad load() const;

 private:
  struct Running;
  void run();
  bool admit(std::vector<std::unique_ptr<Running>>& running);
  void step(std::vector<std::unique_ptr<Running>>& running);

  StepBackend& backend_;
  const Tokenizer& tokenizer_;
  int32_t eos_id_;
  SchedulerOptions options_;
  std::function<void(const StepReport&)> on_step_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  struct Waiting {
    SchedulerJob job;
    std::shared_ptr<RequestChannel> channel;
  };
  std::deque<Waiting> waiting_;
  int64_t running_sequences_ = 0;
  bool shutting_down_ = false;
  std::optional<std::chrono::steady_clock::time_point> cancel_after_;
  std::thread thread_;
};

}  // namespace lightseek::server

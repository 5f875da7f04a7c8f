// The counters behind GET /metrics, in the Prometheus text format. Updated from HTTP threads
// (requests) and the model thread (steps); all methods are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "runtime/prefix_cache.h"
#include "server/scheduler.h"

namespace lightseek::server {

class ServerMetrics {
 public:
  // One answered request. `route` is a known route path or "other" (bounded label values).
  void record_request(const std::string& route, int status, double seconds, int64_t prompt_tokens,
                      int64_t generated_tokens);
  void record_step(const StepReport& step);

  std::string prometheus_text(const SchedulerLoad& load, const PrefixCacheStats& cache = {}) const;

  static constexpr std::array<double, 12> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                             0.5,   1.0,  2.5,   5.0,  10.0, 30.0};

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  int64_t prompt_tokens_ = 0;
  int64_t generated_tokens_ = 0;
  int64_t prefill_tokens_ = 0;  // run through the backend in steps that read prompts
  double prefill_seconds_ = 0.0;
  int64_t decode_tokens_ = 0;
  double decode_seconds_ = 0.0;
  int64_t cancelled_sequences_ = 0;
  std::array<int64_t, kLatencyBuckets.size()> latency_buckets_{};
  int64_t latency_count_ = 0;
  double latency_sum_ = 0.0;
};

}  // namespace lightseek::server

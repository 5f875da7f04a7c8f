#include "server/server_metrics.h"

#include <sstream>

namespace lightseek::server {
namespace {

void header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

double rate(int64_t tokens, double seconds) { return seconds > 0.0 ? static_cast<double>(tokens) / seconds : 0.0; }

}  // namespace

void ServerMetrics::record_request(const std::string& route, int status, double seconds, int64_t prompt_tokens,
                                   int64_t generated_tokens) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  prompt_tokens_ += prompt_tokens;
  generated_tokens_ += generated_tokens;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++latency_buckets_[i];
  }
  ++latency_count_;
  latency_sum_ += seconds;
}

void ServerMetrics::record_step(const StepReport& step) {
  std::lock_guard lock(mutex_);
  cancelled_sequences_ += step.cancelled_sequences;
  // A step that read prompt tokens is prefill time, one that only decoded is decode time.
  if (step.prompt_tokens > 0) {
    prefill_tokens_ += step.prompt_tokens;
    prefill_seconds_ += step.seconds;
  } else if (step.generated_tokens > 0) {
    decode_tokens_ += step.generated_tokens;
    decode_seconds_ += step.seconds;
  }
}

std::string ServerMetrics::prometheus_text(const SchedulerLoad& load, const PrefixCacheStats& cache) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  header(out, "lightseek_requests_total", "counter", "HTTP requests answered, by route and status.");
  for (const auto& [key, count] : requests_) {
    out << "lightseek_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << count << '\n';
  }
  header(out, "lightseek_prompt_tokens_total", "counter", "Prompt tokens of answered requests.");
  out << "lightseek_prompt_tokens_total " << prompt_tokens_ << '\n';
  header(out, "lightseek_generated_tokens_total", "counter", "Tokens generated for answered requests.");
  out << "lightseek_generated_tokens_total " << generated_tokens_ << '\n';
  header(out, "lightseek_prefill_tokens_per_second", "gauge", "Prompt tokens per second of prefill steps so far.");
  out << "lightseek_prefill_tokens_per_second " << rate(prefill_tokens_, prefill_seconds_) << '\n';
  header(out, "lightseek_decode_tokens_per_second", "gauge", "Generated tokens per second of decode steps so far.");
  out << "lightseek_decode_tokens_per_second " << rate(decode_tokens_, decode_seconds_) << '\n';
  header(out, "lightseek_queue_depth", "gauge", "Requests waiting for a free sequence slot.");
  out << "lightseek_queue_depth " << load.queued_requests << '\n';
  header(out, "lightseek_running_sequences", "gauge", "Sequences generating now.");
  out << "lightseek_running_sequences " << load.running_sequences << '\n';
  header(out, "lightseek_cancelled_sequences_total", "counter", "Sequences cancelled (client gone or shutdown).");
  out << "lightseek_cancelled_sequences_total " << cancelled_sequences_ << '\n';
  const auto cache_metric = [&](const char* name, const char* type, const char* help, uint64_t value) {
    header(out, name, type, help);
    out << name << ' ' << value << '\n';
  };
  cache_metric("lightseek_prefix_cache_hits_total", "counter", "Sequences that resumed from a cached prefix.", cache.hits);
  cache_metric("lightseek_prefix_cache_misses_total", "counter", "Sequences that found no cached prefix.", cache.misses);
  cache_metric("lightseek_prefix_cache_reused_tokens_total", "counter", "Prompt tokens not processed again.",
               cache.reused_tokens);
  cache_metric("lightseek_prefix_cache_insertions_total", "counter", "States saved.", cache.insertions);
  cache_metric("lightseek_prefix_cache_evictions_total", "counter", "States dropped from memory for room.",
               cache.evictions);
  cache_metric("lightseek_prefix_cache_entries", "gauge", "States held in memory.", cache.entries);
  cache_metric("lightseek_prefix_cache_bytes", "gauge", "Bytes of states held in memory.", cache.bytes);
  cache_metric("lightseek_prefix_cache_disk_entries", "gauge", "States held on disk.", cache.disk_entries);
  cache_metric("lightseek_prefix_cache_disk_bytes", "gauge", "Bytes of states held on disk.", cache.disk_bytes);
  cache_metric("lightseek_prefix_cache_disk_loads_total", "counter", "Hits read back from disk.", cache.disk_loads);
  cache_metric("lightseek_prefix_cache_disk_rejected_total", "counter",
               "Cache files found corrupt, truncated or another model's (ignored).", cache.disk_rejected);
  cache_metric("lightseek_prefix_cache_disk_evictions_total", "counter", "Cache files deleted for room.",
               cache.disk_evictions);
  header(out, "lightseek_request_duration_seconds", "histogram", "Request latency, arrival to last byte.");
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    out << "lightseek_request_duration_seconds_bucket{le=\"" << kLatencyBuckets[i] << "\"} " << latency_buckets_[i]
        << '\n';
  }
  out << "lightseek_request_duration_seconds_bucket{le=\"+Inf\"} " << latency_count_ << '\n';
  out << "lightseek_request_duration_seconds_sum " << latency_sum_ << '\n';
  out << "lightseek_request_duration_seconds_count " << latency_count_ << '\n';
  return out.str();
}

}  // namespace lightseek::server

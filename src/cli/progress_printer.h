// Progress of a long write (gen-model, bench's synthetic checkpoint) on stderr.
#pragma once

#include <chrono>
#include <cstdint>

namespace lightseek::cli {

// Rewritten in place on a terminal, a line every 10% otherwise; silent for small totals.
class ProgressPrinter {
 public:
  void operator()(uint64_t written, uint64_t total);

 private:
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace lightseek::cli

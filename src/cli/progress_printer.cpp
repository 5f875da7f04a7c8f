#include "cli/progress_printer.h"

#include <cstdio>
#include <unistd.h>

namespace lightseek::cli {

void ProgressPrinter::operator()(uint64_t written, uint64_t total) {
  if (total < (64u << 20)) return;  // small models finish before progress would help
  const int percent = total ? static_cast<int>(100 * written / total) : 100;
  const bool tty = isatty(STDERR_FILENO);
  if (percent == last_percent_ || (!tty && percent / 10 == last_percent_ / 10 && percent != 100)) return;
  last_percent_ = percent;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%swriting weights: %.2f / %.2f GB (%d%%), %.1f s%s", tty ? "\r" : "", written / 1e9,
               total / 1e9, percent, seconds, tty && percent < 100 ? "" : "\n");
}

}  // namespace lightseek::cli

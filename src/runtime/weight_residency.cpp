#include "runtime/weight_residency.h"

#include <fstream>
#include <sstream>
#include <string>

#include "runtime/numa_placement.h"

namespace lightseek {

uint64_t physical_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream fields(line.substr(9));
    uint64_t kibibytes = 0;
    fields >> kibibytes;
    return kibibytes * 1024;
  }
  return 0;
}

bool populate_if_it_fits(const Checkpoint& checkpoint) {
  const uint64_t memory = physical_memory_bytes();
  if (memory == 0 || checkpoint.total_bytes() > memory / 4 * 3) return false;
  // Pages not yet cached are read by this thread now: spread them over the memory nodes.
  const InterleavedAllocation interleave;
  return checkpoint.populate();
}

}  // namespace lightseek

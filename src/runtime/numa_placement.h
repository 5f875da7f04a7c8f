// NUMA placement of the weights. On a machine with several memory nodes, pages that one node
// holds are read at that node's bandwidth by every thread; interleaving the weight pages over
// all nodes while they are first read lets every node's memory controller serve the decode
// stream. A no-op on single-node machines (like the development machine: its placement is
// untested on real multi-node hardware).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lightseek {

// Parses a sysfs node list ("0", "0-3", "0,2-3"); throws Error on malformed text.
std::vector<int> parse_node_list(const std::string& text);

// The online memory nodes (/sys/devices/system/node/online); {0} when unknown.
std::vector<int> online_memory_nodes();

// While alive, pages this thread allocates (including page-cache pages it faults in) are
// interleaved over the online nodes, if there are several. Restores the default policy after.
class InterleavedAllocation {
 public:
  InterleavedAllocation();
  ~InterleavedAllocation();
  InterleavedAllocation(const InterleavedAllocation&) = delete;
  InterleavedAllocation& operator=(const InterleavedAllocation&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
};

}  // namespace lightseek

#include "runtime/numa_placement.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <fstream>

#include "core/error.h"

namespace lightseek {

namespace {
// From <linux/mempolicy.h>; spelled out so that no libnuma is needed for two system calls.
constexpr int kMpolDefault = 0;
constexpr int kMpolInterleave = 3;

int parse_number(const std::string& text, size_t& at) {
  if (at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[at]))) {
    fail("malformed NUMA node list '", text, "' at character ", at);
  }
  int value = 0;
  while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
    value = value * 10 + (text[at++] - '0');
    if (value > 4095) fail("NUMA node number too large in '", text, "'");
  }
  return value;
}
}  // namespace

std::vector<int> parse_node_list(const std::string& text) {
  std::vector<int> nodes;
  size_t at = 0;
  std::string trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
  if (trimmed.empty()) fail("empty NUMA node list");
  while (at < trimmed.size()) {
    const int first = parse_number(trimmed, at);
    int last = first;
    if (at < trimmed.size() && trimmed[at] == '-') {
      ++at;
      last = parse_number(trimmed, at);
      if (last < first) fail("malformed NUMA node range in '", trimmed, "'");
    }
    for (int node = first; node <= last; ++node) nodes.push_back(node);
    if (at < trimmed.size()) {
      if (trimmed[at] != ',') fail("malformed NUMA node list '", trimmed, "' at character ", at);
      ++at;
    }
  }
  return nodes;
}

std::vector<int> online_memory_nodes() {
  std::ifstream file("/sys/devices/system/node/online");
  std::string text;
  if (!std::getline(file, text)) return {0};
  try {
    return parse_node_list(text);
  } catch (const Error&) {
    return {0};
  }
}

InterleavedAllocation::InterleavedAllocation() {
  const std::vector<int> nodes = online_memory_nodes();
  if (nodes.size() < 2) return;
  unsigned long mask[4096 / (8 * sizeof(unsigned long))] = {};
  for (int node : nodes) mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
  active_ = syscall(SYS_set_mempolicy, kMpolInterleave, mask, 4096) == 0;
}

InterleavedAllocation::~InterleavedAllocation() {
  if (active_) syscall(SYS_set_mempolicy, kMpolDefault, nullptr, 0);
}

}  // namespace lightseek

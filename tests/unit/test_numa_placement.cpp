#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "runtime/numa_placement.h"

namespace lightseek {
namespace {

TEST(NumaPlacement, ParsesSysfsNodeLists) {
  EXPECT_EQ(parse_node_list("0\n"), std::vector<int>({0}));
  EXPECT_EQ(parse_node_list("0-3"), std::vector<int>({0, 1, 2, 3}));
  EXPECT_EQ(parse_node_list("0,2-3,7"), std::vector<int>({0, 2, 3, 7}));
}

TEST(NumaPlacement, RejectsMalformedNodeLists) {
  for (const char* bad : {"", "a", "1-", "3-1", "0,,1", "0;1", "99999"}) {
    EXPECT_THROW(parse_node_list(bad), Error) << bad;
  }
}

TEST(NumaPlacement, InterleavingIsOnlyActiveWithSeveralNodes) {
  const InterleavedAllocation interleave;
  EXPECT_EQ(interleave.active(), online_memory_nodes().size() > 1);
}

}  // namespace
}  // namespace lightseek

// The count of responses still being written, which shutdown waits on.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "server/open_responses.h"

namespace lightseek::server {
namespace {

using Clock = std::chrono::steady_clock;

TEST(OpenResponses, CountsHoldsUntilTheirLastCopyIsGone) {
  OpenResponses responses;
  EXPECT_EQ(responses.open(), 0);
  auto first = responses.hold();
  auto second = responses.hold();
  EXPECT_EQ(responses.open(), 2);
  auto copy = first;  // the writer's copy, as a stream's callbacks keep it
  first.reset();
  EXPECT_EQ(responses.open(), 2);
  copy.reset();
  EXPECT_EQ(responses.open(), 1);
  second.reset();
  EXPECT_EQ(responses.open(), 0);
  EXPECT_TRUE(responses.wait_until_none(Clock::now()));
}

TEST(OpenResponses, WaitEndsWhenTheLastResponseEndsOrAtTheDeadline) {
  OpenResponses responses;
  auto held = responses.hold();
  const auto start = Clock::now();
  EXPECT_FALSE(responses.wait_until_none(start + std::chrono::milliseconds(30)));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(30));

  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    held.reset();
  });
  EXPECT_TRUE(responses.wait_until_none(Clock::now() + std::chrono::seconds(30)));
  EXPECT_EQ(responses.open(), 0);
  writer.join();
}

}  // namespace
}  // namespace lightseek::server

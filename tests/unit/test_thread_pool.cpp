#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"

namespace lightseek {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnceInGrainMultiples) {
  ThreadPool pool(3);
  for (int64_t count : {1, 5, 16, 17, 1000}) {
    std::vector<std::atomic<int>> hits(count);
    std::atomic<int> bad_boundaries{0};
    pool.parallel_for(count, 4, [&](int64_t begin, int64_t end, int thread) {
      if (begin % 4 != 0 || thread < 0 || thread >= pool.threads()) bad_boundaries++;
      for (int64_t i = begin; i < end; ++i) hits[i]++;
    });
    for (int64_t i = 0; i < count; ++i) ASSERT_EQ(hits[i].load(), 1) << "count " << count << " index " << i;
    EXPECT_EQ(bad_boundaries.load(), 0);
  }
}

TEST(ThreadPool, ManySmallRegionsInARow) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int round = 0; round < 20000; ++round) {
    pool.parallel_for(8, 1, [&](int64_t begin, int64_t end, int) { total += end - begin; });
  }
  EXPECT_EQ(total.load(), 20000 * 8);
}

TEST(ThreadPool, NestedRegionsRunOnTheCallingThread) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.parallel_for(4, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      pool.parallel_for(10, 1, [&](int64_t b, int64_t e, int) { inner += static_cast<int>(e - b); });
    }
  });
  EXPECT_EQ(inner.load(), 40);
}

TEST(ThreadPool, CallersOnSeveralThreadsTakeTurns) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 500; ++round) {
        pool.parallel_for(100, 7, [&](int64_t begin, int64_t end, int) { total += end - begin; });
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(total.load(), 3 * 500 * 100);
}

TEST(ThreadPool, BalancedRegionsCoverEveryIndexExactlyOnceInGrainMultiples) {
  ThreadPool pool(3);
  for (int pieces : {1, 4, 100}) {
    for (int64_t count : {1, 5, 16, 17, 1000, 4099}) {
      std::vector<std::atomic<int>> hits(count);
      std::atomic<int> bad_boundaries{0};
      pool.parallel_for_balanced(count, 4, pieces, [&](int64_t begin, int64_t end, int thread) {
        if (begin % 4 != 0 || begin >= end || thread < 0 || thread >= pool.threads()) bad_boundaries++;
        for (int64_t i = begin; i < end; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < count; ++i) {
        ASSERT_EQ(hits[i].load(), 1) << "pieces " << pieces << " count " << count << " index " << i;
      }
      EXPECT_EQ(bad_boundaries.load(), 0);
      // A plain region right after must not see the pieces of the balanced one.
      std::atomic<int64_t> total{0};
      pool.parallel_for(count, 3, [&](int64_t begin, int64_t end, int) { total += end - begin; });
      EXPECT_EQ(total.load(), count);
    }
  }
}

TEST(ThreadPool, ABalancedRegionMovesWorkAwayFromAThreadThatFallsBehind) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> done_by(2);
  std::atomic<bool> delayed{false};
  pool.parallel_for_balanced(64, 1, 8, [&](int64_t begin, int64_t end, int thread) {
    // The calling thread's first piece stalls, as if its core were taken away, until the worker
    // has done all it can (a fixed sleep failed on a loaded machine, where the worker had not
    // run yet when it ended). Without stealing the worker stops at 32 and the wait gives up.
    if (thread == 0 && !delayed.exchange(true)) {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (done_by[1].load() < 60 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    done_by[static_cast<size_t>(thread)] += static_cast<int>(end - begin);
  });
  EXPECT_EQ(done_by[0].load() + done_by[1].load(), 64);
  // Its own half is 32 indices in 8 pieces of 4; the worker takes every piece it had not started.
  EXPECT_EQ(done_by[0].load(), 4);
  EXPECT_EQ(done_by[1].load(), 60);
}

TEST(ThreadPool, NestedBalancedRegionsRunOnTheCallingThread) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.parallel_for_balanced(4, 1, 2, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      pool.parallel_for_balanced(10, 1, 4, [&](int64_t b, int64_t e, int) { inner += static_cast<int>(e - b); });
    }
  });
  EXPECT_EQ(inner.load(), 40);
}

// The parallel clock counts the regions that ran on several threads, from start to finish, and
// nothing that ran on the calling thread alone.
TEST(ThreadPool, ClocksOnlyTheRegionsThatRanOnSeveralThreads) {
  const auto sleep_in = [](int64_t, int64_t, int) { std::this_thread::sleep_for(std::chrono::milliseconds(20)); };
  ThreadPool single(1);
  single.parallel_for(8, 1, sleep_in);
  EXPECT_EQ(single.parallel_nanoseconds(), 0);

  ThreadPool pool(2);
  pool.parallel_for(1, 1, sleep_in);  // one part: runs on the caller
  pool.parallel_for(8, 8, sleep_in);  // one grain: one part
  EXPECT_EQ(pool.parallel_nanoseconds(), 0);
  pool.parallel_for(8, 1, [&](int64_t begin, int64_t end, int) {
    sleep_in(begin, end, 0);
    pool.parallel_for(4, 1, sleep_in);  // nested: on this thread, inside the outer region's time
  });
  const int64_t after_one = pool.parallel_nanoseconds();
  EXPECT_GE(after_one, 40'000'000);
  EXPECT_LT(after_one, 2'000'000'000);
  pool.parallel_for_balanced(8, 1, 2, sleep_in);
  EXPECT_GE(pool.parallel_nanoseconds() - after_one, 20'000'000);
}

TEST(ThreadPool, RejectsAThreadCountBelowOne) { EXPECT_THROW(ThreadPool(0), Error); }

}  // namespace
}  // namespace lightseek

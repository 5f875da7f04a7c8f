// The activation buffers a forward pass reuses: within a scope a returned block serves the next
// request that fits, a block much larger than a request is not lent to it, nothing stays pooled
// after the outermost scope, and without a scope nothing is pooled at all.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <utility>

#include "core/scratch.h"

namespace lightseek {
namespace {

TEST(Scratch, AnEndedBufferServesTheNextOfTheSameSizeWithinAScope) {
  const ScratchScope scope;
  const float* first = nullptr;
  {
    Scratch<float> a(1000);
    first = a.data();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
    EXPECT_EQ(scratch_detail::pooled_blocks(), 0u);
  }
  EXPECT_EQ(scratch_detail::pooled_blocks(), 1u);
  Scratch<float> b(1000);
  EXPECT_EQ(b.data(), first);
  EXPECT_EQ(scratch_detail::pooled_blocks(), 0u);
}

TEST(Scratch, ABlockMoreThanTwiceTheRequestIsNotLent) {
  const ScratchScope scope;
  const void* large = nullptr;
  { Scratch<float> big(1 << 20); large = big.data(); }
  Scratch<float> small(1000);
  EXPECT_NE(static_cast<const void*>(small.data()), large);
  EXPECT_EQ(scratch_detail::pooled_blocks(), 1u);  // the large one waits for a large request
  Scratch<float> again(3 << 18);                   // 3/4 of it: fits
  EXPECT_EQ(static_cast<const void*>(again.data()), large);
}

TEST(Scratch, TheSmallestFittingBlockIsChosen) {
  const ScratchScope scope;
  const void* middle = nullptr;
  {
    Scratch<uint8_t> a(4096), b(3000), c(2500);
    middle = b.data();
  }
  EXPECT_EQ(scratch_detail::pooled_blocks(), 3u);
  Scratch<uint8_t> d(2600);  // c (2560 bytes once rounded) is too small, b is the closest fit
  EXPECT_EQ(static_cast<const void*>(d.data()), middle);
}

TEST(Scratch, TheOutermostScopeEmptiesThePool) {
  {
    const ScratchScope outer;
    {
      const ScratchScope inner;
      { Scratch<double> a(5000); }
      EXPECT_EQ(scratch_detail::pooled_blocks(), 1u);
    }
    EXPECT_EQ(scratch_detail::pooled_blocks(), 1u);  // still inside the outer scope
    EXPECT_GE(scratch_detail::pooled_bytes(), 5000 * sizeof(double));
  }
  EXPECT_EQ(scratch_detail::pooled_blocks(), 0u);
  EXPECT_EQ(scratch_detail::pooled_bytes(), 0u);
}

TEST(Scratch, WithoutAScopeNothingIsPooled) {
  { Scratch<float> a(1000); }
  EXPECT_EQ(scratch_detail::pooled_blocks(), 0u);
}

TEST(Scratch, EachThreadHasItsOwnPool) {
  const ScratchScope scope;
  { Scratch<float> a(1000); }
  size_t pooled_elsewhere = 1;
  std::thread other([&] {
    { Scratch<float> b(1000); }  // no scope on this thread
    pooled_elsewhere = scratch_detail::pooled_blocks();
  });
  other.join();
  EXPECT_EQ(pooled_elsewhere, 0u);
  EXPECT_EQ(scratch_detail::pooled_blocks(), 1u);
}

TEST(Scratch, ZeroedClearsAReusedBlock) {
  const ScratchScope scope;
  {
    Scratch<int32_t> dirty(777);
    for (size_t i = 0; i < dirty.size(); ++i) dirty[i] = -1;
  }
  Scratch<int32_t> clean = Scratch<int32_t>::zeroed(777);
  ASSERT_EQ(clean.size(), 777u);
  for (int32_t v : clean) ASSERT_EQ(v, 0);
}

TEST(Scratch, MovesHandOverTheBlockOnce) {
  const ScratchScope scope;
  Scratch<float> a(100);
  float* block = a.data();
  Scratch<float> b(std::move(a));
  EXPECT_EQ(b.data(), block);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  Scratch<float> c;
  c = std::move(b);
  EXPECT_EQ(c.data(), block);
  EXPECT_EQ(scratch_detail::pooled_blocks(), 0u);  // moved, not returned
  c = Scratch<float>(50);
  EXPECT_EQ(scratch_detail::pooled_blocks(), 1u);  // the replaced block went back
  Scratch<float> empty(0);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.data(), nullptr);
}

}  // namespace
}  // namespace lightseek

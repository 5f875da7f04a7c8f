// The growing byte store under the KV rows: contents survive every growth, copies are deep,
// and a request for more memory than can exist is an Error, not a crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <utility>

#include "core/append_buffer.h"
#include "core/error.h"

namespace lightseek {
namespace {

uint8_t pattern(size_t i) { return static_cast<uint8_t>(i * 131 + (i >> 12)); }

TEST(AppendBuffer, KeepsEveryByteThroughManyGrowths) {
  AppendBuffer buffer;
  EXPECT_EQ(buffer.size(), 0u);
  size_t written = 0;
  // Odd sizes, so rows straddle page boundaries and growths happen mid-row; past 8 MB.
  while (written < (size_t{8} << 20)) {
    const size_t row = 1000 + written % 3001;
    uint8_t* out = buffer.extend(row);
    for (size_t i = 0; i < row; ++i) out[i] = pattern(written + i);
    written += row;
  }
  ASSERT_EQ(buffer.size(), written);
  EXPECT_GE(buffer.capacity(), written);
  for (size_t i = 0; i < written; ++i) ASSERT_EQ(buffer.data()[i], pattern(i)) << "byte " << i;
}

TEST(AppendBuffer, ClearKeepsTheRoomAndTheNextBytesStartAtZero) {
  AppendBuffer buffer;
  uint8_t* first = buffer.extend(100);
  for (int i = 0; i < 100; ++i) first[i] = 0xAB;
  const size_t capacity = buffer.capacity();
  buffer.clear();
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.capacity(), capacity);
  EXPECT_EQ(buffer.extend(10), buffer.data());
  EXPECT_EQ(buffer.size(), 10u);
}

TEST(AppendBuffer, CopiesAreDeepAndMovesEmptyTheSource) {
  AppendBuffer original;
  for (size_t i = 0; i < 5000; ++i) *original.extend(1) = pattern(i);
  AppendBuffer copy = original;
  *copy.extend(1) = 7;
  copy.data()[0] = static_cast<uint8_t>(pattern(0) + 1);
  EXPECT_EQ(original.size(), 5000u);
  EXPECT_EQ(original.data()[0], pattern(0));
  EXPECT_EQ(copy.size(), 5001u);

  AppendBuffer assigned;
  *assigned.extend(1) = 1;
  assigned = original;
  ASSERT_EQ(assigned.size(), 5000u);
  for (size_t i = 0; i < 5000; ++i) ASSERT_EQ(assigned.data()[i], pattern(i));
  assigned = AppendBuffer();
  EXPECT_EQ(assigned.size(), 0u);

  AppendBuffer moved = std::move(original);
  EXPECT_EQ(moved.size(), 5000u);
  EXPECT_EQ(moved.data()[4999], pattern(4999));
  EXPECT_EQ(original.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(original.data(), nullptr);
}

TEST(AppendBuffer, AskingForMoreThanMemoryHoldsIsAnError) {
  AppendBuffer buffer;
  *buffer.extend(1) = 42;
  EXPECT_THROW(buffer.extend(std::numeric_limits<size_t>::max()), Error);
  EXPECT_THROW(buffer.extend(size_t{1} << 62), Error);  // 4 EiB: no kernel maps that
  ASSERT_EQ(buffer.size(), 1u);  // and the buffer is as it was
  EXPECT_EQ(buffer.data()[0], 42);
}

}  // namespace
}  // namespace lightseek

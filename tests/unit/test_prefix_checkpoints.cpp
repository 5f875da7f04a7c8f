// Where prompts are saved for the prefix cache: after <｜Assistant｜>, before <｜User｜>, at
// doubling distances inside long stretches, and at the end.
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/prefix_checkpoints.h"

namespace lightseek {
namespace {

constexpr int32_t kUserMarker = 7;
constexpr int32_t kAssistantMarker = 9;
const CheckpointMarkers kMarkers{kAssistantMarker, kUserMarker};

// A prompt of `size` plain tokens (id 1) with markers placed at the given positions.
std::vector<int32_t> prompt_with(int64_t size, std::vector<std::pair<int64_t, int32_t>> markers) {
  std::vector<int32_t> prompt(static_cast<size_t>(size), 1);
  for (auto [at, id] : markers) prompt[static_cast<size_t>(at)] = id;
  return prompt;
}

TEST(PrefixCheckpoints, AShortPromptIsSavedOnlyAtItsEnd) {
  EXPECT_EQ(prefix_checkpoints(prompt_with(20, {{2, kUserMarker}}), kMarkers), (std::vector<int64_t>{20}));
  // A turn's end is saved however short: the next turn resumes there.
  EXPECT_EQ(prefix_checkpoints(prompt_with(20, {{2, kUserMarker}, {8, kAssistantMarker}}), kMarkers), (std::vector<int64_t>{9, 20}));
  EXPECT_EQ(prefix_checkpoints(prompt_with(1, {}), kMarkers), (std::vector<int64_t>{1}));
  EXPECT_TRUE(prefix_checkpoints(std::vector<int32_t>{}, kMarkers).empty());
}

TEST(PrefixCheckpoints, ASystemPromptIsSavedBeforeTheFirstUserTurn) {
  // BOS + 99 tokens of system prompt, then <｜User｜> ... <｜Assistant｜> at the end.
  const auto prompt = prompt_with(160, {{100, kUserMarker}, {159, kAssistantMarker}});
  EXPECT_EQ(prefix_checkpoints(prompt, kMarkers), (std::vector<int64_t>{100, 160}));
}

TEST(PrefixCheckpoints, EveryTurnIsSavedAfterItsAssistantMarkerAndBeforeTheNextUser) {
  const auto prompt = prompt_with(400, {{50, kUserMarker}, {80, kAssistantMarker}, {200, kUserMarker}, {240, kAssistantMarker}, {380, kUserMarker}});
  EXPECT_EQ(prefix_checkpoints(prompt, kMarkers), (std::vector<int64_t>{50, 81, 200, 241, 380, 400}));
}

TEST(PrefixCheckpoints, LongStretchesGetCheckpointsAtDoublingDistances) {
  // A 10,000-token user message starting at 100, then the assistant marker.
  const auto prompt = prompt_with(10'200, {{100, kUserMarker}, {10'100, kAssistantMarker}});
  EXPECT_EQ(prefix_checkpoints(prompt, kMarkers),
            (std::vector<int64_t>{100, 1124, 2148, 4196, 8292, 10'101, 10'200}));
  // Without markers the stretch is the whole prompt.
  EXPECT_EQ(prefix_checkpoints(prompt_with(5000, {}), CheckpointMarkers{}),
            (std::vector<int64_t>{1024, 2048, 4096, 5000}));
}

TEST(PrefixCheckpoints, TheCopiesBeforeTheEndHoldLessThanTwiceThePrompt) {
  // A state's size grows with its length, so the checkpoints' total length measures their cost.
  for (int64_t size : {3000, 70'000, 1'000'000}) {
    const std::vector<int64_t> lengths = prefix_checkpoints(prompt_with(size, {}), CheckpointMarkers{});
    ASSERT_EQ(lengths.back(), size);
    int64_t before_end = 0;
    for (size_t i = 0; i + 1 < lengths.size(); ++i) before_end += lengths[i];
    EXPECT_LT(before_end, 2 * size) << size;
    EXPECT_GE(2 * lengths[lengths.size() - 2], size) << "a shared prefix reuses at least half of it";
  }
}

}  // namespace
}  // namespace lightseek

// Where a prompt's state is saved for later prompts to resume from (the prefix cache). A state
// cannot be rewound, so a later prompt can only reuse a length that was saved; these are the
// lengths other prompts are likely to share:
// * right after each <｜Assistant｜>: a later turn re-renders earlier replies without their
//   reasoning, so it shares the prompt up to there, not the generated text;
// * right before each <｜User｜> past the first kShortestCheckpoint tokens: conversations
//   with the same system prompt and tools, or an edited later message, share what precedes it;
// * inside long stretches between those, at 1K, 2K, 4K, ... tokens past the stretch's start: a
//   long document asked about in several ways. The spacing doubles so that the copies saved
//   before the end hold less than twice the prompt's tokens, while a prompt sharing a long
//   prefix still reuses at least half of it;
// * at the prompt's end (with its logits: a repeated prompt runs nothing).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace lightseek {

struct CheckpointMarkers {
  std::optional<int32_t> assistant;  // <｜Assistant｜>
  std::optional<int32_t> user;       // <｜User｜>
};

// A prompt shorter than this is not saved before its first <｜User｜>: so few tokens are cheaper
// to process again than to store.
inline constexpr int64_t kFirstInnerCheckpoint = 1024;
inline constexpr int64_t kShortestCheckpoint = 32;

// Prompt lengths to save at, ascending, without repeats; the last is the prompt's size.
std::vector<int64_t> prefix_checkpoints(std::span<const int32_t> prompt, const CheckpointMarkers& markers);

}  // namespace lightseek

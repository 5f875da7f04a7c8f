// One conversation's sequence with its token history, so that a new prompt that extends or
// partly repeats what was processed resumes from the longest reusable point instead of being
// processed again. The compressors' pending state cannot be rewound, so resuming inside the
// history needs a checkpoint (a copy of the state) taken at that position.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "model/transformer.h"

namespace lightseek {

struct PrefillStats {
  int64_t reused = 0;     // prompt tokens whose state was already there
  int64_t processed = 0;  // prompt tokens run through the model
  double seconds = 0.0;
};

class Session {
 public:
  explicit Session(Transformer& model);

  // Brings the state to exactly `prompt` and leaves the logits of its last token in
  // last_logits(). Checkpoints are saved after each position listed in `checkpoint_after`
  // (token counts), for later prompts that diverge there.
  PrefillStats prefill(std::span<const int32_t> prompt, const std::vector<int64_t>& checkpoint_after = {});
  // Appends one token (a generated one) and computes its logits.
  void append(int32_t token);
  void clear();

  const std::vector<int32_t>& tokens() const { return tokens_; }
  const std::vector<float>& last_logits() const { return last_logits_; }
  size_t checkpoint_count() const { return checkpoints_.size(); }

 private:
  struct Checkpoint {
    SequenceState state;
    std::vector<float> last_logits;
  };
  void run(std::span<const int32_t> tokens);

  Transformer& model_;
  SequenceState state_;
  std::vector<int32_t> tokens_;
  std::vector<float> last_logits_;
  std::map<int64_t, Checkpoint> checkpoints_;  // by token count
};

}  // namespace lightseek

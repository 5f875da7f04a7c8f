// The test backend of `serve --scripted FILE`: instead of sampling, each new sequence replays
// the next completion of the file (JSON Lines, one JSON string per line, used in order and
// cycling), tokenized with the real tokenizer and handed out one token per step, then EOS.
// Everything downstream (stop strings, parser, events, protocols) is the real path.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "server/step_backend.h"
#include "text/tokenizer.h"

namespace lightseek::server {

// Throws lightseek::Error naming the file and line when the file is missing, has no
// completions, or a line is not a JSON string. Blank lines are skipped.
std::vector<std::string> load_scripted_completions(const std::filesystem::path& file);

class ScriptedStepBackend : public StepBackend {
 public:
  // `step_interval`: how long one step takes, to stand in for decode speed in tests of
  // concurrency and cancellation (zero: as fast as possible).
  ScriptedStepBackend(std::vector<std::string> completions, const Tokenizer& tokenizer, int32_t eos_id,
                      std::chrono::milliseconds step_interval = {});

  // Replays its texts whatever the rules say (no structured output).
  std::unique_ptr<StepSequence> start(std::span<const int32_t> prompt, const SamplingParams& sampling,
                                      const SequenceRules& rules) override;
  void step(std::span<StepSequence* const> sequences) override;

 private:
  std::vector<std::vector<int32_t>> completions_;  // tokenized, each ending with EOS
  std::chrono::milliseconds step_interval_;
  std::mutex mutex_;
  std::size_t next_ = 0;
};

}  // namespace lightseek::server

#include "server/scripted_backend.h"

#include <algorithm>
#include <fstream>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lightseek::server {
namespace {

class ScriptedSequence : public StepSequence {
 public:
  ScriptedSequence(const std::vector<int32_t>& script, int64_t prompt_tokens) : tokens(script) {
    prompt_size = prompt_tokens;
  }
  const std::vector<int32_t>& tokens;
  std::size_t next = 0;
};

}  // namespace

std::vector<std::string> load_scripted_completions(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file.string(), ": cannot open the scripted completions file");
  std::vector<std::string> completions;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& error) {
      fail(file.string(), ":", number, ": not JSON (", error.what(), ")");
    }
    if (!value.is_string()) fail(file.string(), ":", number, ": expected a JSON string, got ", value.type_name());
    completions.push_back(value.get<std::string>());
  }
  if (completions.empty()) fail(file.string(), ": no completions (one JSON string per line)");
  return completions;
}

ScriptedStepBackend::ScriptedStepBackend(std::vector<std::string> completions, const Tokenizer& tokenizer,
                                         int32_t eos_id, std::chrono::milliseconds step_interval)
    : step_interval_(step_interval) {
  for (const std::string& text : completions) {
    // Special tokens written in the text (</think>, ｜DSML｜) become their ids, as the model
    // would have produced them.
    std::vector<int32_t> tokens = tokenizer.encode(text);
    tokens.push_back(eos_id);
    completions_.push_back(std::move(tokens));
  }
}

std::unique_ptr<StepSequence> ScriptedStepBackend::start(std::span<const int32_t> prompt, const SamplingParams&,
                                                         const SequenceRules&) {
  std::lock_guard lock(mutex_);
  const std::vector<int32_t>& script = completions_[next_];
  next_ = (next_ + 1) % completions_.size();
  return std::make_unique<ScriptedSequence>(script, static_cast<int64_t>(prompt.size()));
}

void ScriptedStepBackend::step(std::span<StepSequence* const> sequences) {
  if (step_interval_.count() > 0) std::this_thread::sleep_for(step_interval_);
  for (StepSequence* base : sequences) {
    auto& sequence = static_cast<ScriptedSequence&>(*base);
    sequence.next_token.reset();
    if (sequence.reading_prompt()) {
      // The prompt was rendered and tokenized for real; only the forward pass is skipped.
      sequence.last_step_tokens = sequence.prompt_size - sequence.prompt_done;
      sequence.prompt_done = sequence.prompt_size;
    } else {
      sequence.last_step_tokens = 1;
    }
    // Past the end the script repeats EOS, which the stop checker always ends on.
    const std::size_t at = std::min(sequence.next, sequence.tokens.size() - 1);
    sequence.next_token = sequence.tokens[at];
    // No model distribution here: every scripted token is certain (logprob 0) and is its own
    // only alternative, deterministic so tests can assert it.
    sequence.next_logprob.reset();
    if (sequence.logprobs_top >= 0) {
      StepLogprob logprob;
      if (sequence.logprobs_top > 0) logprob.top.emplace_back(sequence.tokens[at], 0.0);
      sequence.next_logprob = std::move(logprob);
    }
    ++sequence.next;
  }
}

}  // namespace lightseek::server

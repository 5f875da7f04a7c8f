#include "runtime/session.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace lightseek {

Session::Session(Transformer& model) : model_(model), state_(model.new_sequence()) {}

void Session::clear() {
  state_ = model_.new_sequence();
  tokens_.clear();
  last_logits_.clear();
  checkpoints_.clear();
}

void Session::run(std::span<const int32_t> tokens) {
  std::vector<float> logits;
  model_.forward(state_, tokens, logits);
  const int64_t vocab = model_.config().vocab_size;
  last_logits_.assign(logits.end() - vocab, logits.end());
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
}

PrefillStats Session::prefill(std::span<const int32_t> prompt, const std::vector<int64_t>& checkpoint_after) {
  if (prompt.empty()) fail("empty prompt: at least one token is needed");
  const auto start = std::chrono::steady_clock::now();
  const int64_t length = static_cast<int64_t>(prompt.size());
  const auto common = std::mismatch(tokens_.begin(), tokens_.end(), prompt.begin(), prompt.end());
  int64_t shared = common.first - tokens_.begin();

  const int64_t history = static_cast<int64_t>(tokens_.size());
  if (shared < history) {
    // The history diverges from the prompt, or runs past it: resume from the latest checkpoint
    // inside the common prefix, or from scratch.
    auto checkpoint = checkpoints_.upper_bound(shared);
    if (checkpoint != checkpoints_.begin()) {
      --checkpoint;
      state_ = checkpoint->second.state;
      last_logits_ = checkpoint->second.last_logits;
      shared = checkpoint->first;
    } else {
      state_ = model_.new_sequence();
      last_logits_.clear();
      shared = 0;
    }
    tokens_.assign(prompt.begin(), prompt.begin() + shared);
    // Checkpoints past that point describe the old history.
    checkpoints_.erase(checkpoints_.upper_bound(shared), checkpoints_.end());
  }

  PrefillStats stats;
  stats.reused = shared;
  std::vector<int64_t> stops;
  for (int64_t position : checkpoint_after) {
    if (position > shared && position <= length) stops.push_back(position);
  }
  std::sort(stops.begin(), stops.end());
  stops.push_back(length);
  int64_t done = shared;
  for (int64_t stop : stops) {
    if (stop > done) {
      run(prompt.subspan(done, stop - done));
      done = stop;
    }
    if (stop < length || std::find(checkpoint_after.begin(), checkpoint_after.end(), stop) != checkpoint_after.end()) {
      checkpoints_[stop] = {state_, last_logits_};
    }
  }
  stats.processed = length - shared;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

void Session::append(int32_t token) { run(std::span<const int32_t>(&token, 1)); }

}  // namespace lightseek

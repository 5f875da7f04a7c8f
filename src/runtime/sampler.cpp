#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <utility>

#include "core/error.h"

namespace lightseek {
namespace {

constexpr float kMinusInfinity = -std::numeric_limits<float>::infinity();

struct Candidate {
  int32_t id;
  double weight;  // the scaled logit, then the probability after the softmax
};

// Most likely first; equal weights in id order, so every cut is deterministic and top-k = 1
// agrees with greedy's lowest-id tie rule.
bool ranks_before(const Candidate& a, const Candidate& b) {
  return a.weight > b.weight || (a.weight == b.weight && a.id < b.id);
}

void normalise(std::vector<Candidate>& candidates) {
  double total = 0.0;
  for (const Candidate& c : candidates) total += c.weight;
  for (Candidate& c : candidates) c.weight /= total;
}

int32_t greedy_token(std::span<const float> logits) {
  int32_t best = -1;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] == kMinusInfinity) continue;
    if (best < 0 || logits[i] > logits[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  }
  return best;
}

// Every step except the draw: the surviving tokens with their renormalised probabilities.
std::vector<Candidate> sampling_candidates(std::span<const float> logits, std::span<const int32_t> history,
                                           const SamplingParams& params) {
  if (logits.empty()) fail("sampling: the logits row is empty");
  std::vector<float> adjusted(logits.begin(), logits.end());
  apply_logit_bias_and_penalties(adjusted, history, params);
  for (size_t i = 0; i < adjusted.size(); ++i) {
    // A broken forward pass must not turn into a silently wrong token.
    if (std::isnan(adjusted[i]) || adjusted[i] == std::numeric_limits<float>::infinity()) {
      fail("sampling: the logit of token ", i, " is ", adjusted[i], " (after bias and penalties)");
    }
  }

  if (params.temperature == 0.0f) {
    const int32_t best = greedy_token(adjusted);
    if (best < 0) fail("sampling: every token is banned (all logits are -infinity after logit_bias)");
    return {{best, 1.0}};
  }

  std::vector<Candidate> candidates;
  candidates.reserve(adjusted.size());
  for (size_t i = 0; i < adjusted.size(); ++i) {
    if (adjusted[i] == kMinusInfinity) continue;
    candidates.push_back({static_cast<int32_t>(i), static_cast<double>(adjusted[i]) / params.temperature});
  }
  if (candidates.empty()) fail("sampling: every token is banned (all logits are -infinity after logit_bias)");

  if (params.top_k > 0 && static_cast<size_t>(params.top_k) < candidates.size()) {
    const auto kth = candidates.begin() + (params.top_k - 1);
    std::nth_element(candidates.begin(), kth, candidates.end(), ranks_before);
    candidates.resize(static_cast<size_t>(params.top_k));
  }

  double max_weight = candidates.front().weight;
  for (const Candidate& c : candidates) max_weight = std::max(max_weight, c.weight);
  for (Candidate& c : candidates) c.weight = std::exp(c.weight - max_weight);
  normalise(candidates);

  if (params.top_p < 1.0f) {
    std::sort(candidates.begin(), candidates.end(), ranks_before);
    double mass = 0.0;
    size_t kept = 0;
    while (kept < candidates.size() && mass < static_cast<double>(params.top_p)) mass += candidates[kept++].weight;
    candidates.resize(std::max<size_t>(kept, 1));
  }

  if (params.min_p > 0.0f) {
    double max_probability = 0.0;
    for (const Candidate& c : candidates) max_probability = std::max(max_probability, c.weight);
    const double threshold = static_cast<double>(params.min_p) * max_probability;
    std::erase_if(candidates, [threshold](const Candidate& c) { return c.weight < threshold; });
  }

  normalise(candidates);
  return candidates;
}

}  // namespace

void validate_sampling_params(const SamplingParams& params) {
  if (!std::isfinite(params.temperature) || params.temperature < 0.0f) {
    fail("sampling: temperature must be a finite number >= 0 (0 = greedy), got ", params.temperature);
  }
  if (params.top_k < 0) fail("sampling: top_k must be >= 0 (0 = off), got ", params.top_k);
  if (!(params.top_p > 0.0f && params.top_p <= 1.0f)) {
    fail("sampling: top_p must be in (0, 1] (1 = off), got ", params.top_p);
  }
  if (!(params.min_p >= 0.0f && params.min_p <= 1.0f)) {
    fail("sampling: min_p must be in [0, 1] (0 = off), got ", params.min_p);
  }
  if (!std::isfinite(params.repetition_penalty) || params.repetition_penalty <= 0.0f) {
    fail("sampling: repetition_penalty must be a finite number > 0 (1 = off), got ", params.repetition_penalty);
  }
  if (!std::isfinite(params.frequency_penalty)) {
    fail("sampling: frequency_penalty must be a finite number, got ", params.frequency_penalty);
  }
  if (!std::isfinite(params.presence_penalty)) {
    fail("sampling: presence_penalty must be a finite number, got ", params.presence_penalty);
  }
  for (const auto& [id, bias] : params.logit_bias) {
    if (id < 0) fail("sampling: logit_bias names token ", id, ", a negative id");
    if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity()) {
      fail("sampling: logit_bias for token ", id, " must be a number or -infinity, got ", bias);
    }
  }
}

void apply_logit_bias_and_penalties(std::span<float> logits, std::span<const int32_t> history,
                                    const SamplingParams& params) {
  const size_t vocab = logits.size();
  for (const auto& [id, bias] : params.logit_bias) {
    if (id < 0 || static_cast<size_t>(id) >= vocab) {
      fail("sampling: logit_bias names token ", id, ", outside the vocabulary of ", vocab, " tokens");
    }
    logits[static_cast<size_t>(id)] += bias;
  }

  const bool penalised = params.repetition_penalty != 1.0f || params.frequency_penalty != 0.0f ||
                         params.presence_penalty != 0.0f;
  if (!penalised) return;
  std::unordered_map<int32_t, int64_t> occurrences;
  for (size_t position = 0; position < history.size(); ++position) {
    const int32_t id = history[position];
    if (id < 0 || static_cast<size_t>(id) >= vocab) {
      fail("sampling: history token ", id, " at position ", position, " is outside the vocabulary of ", vocab,
           " tokens");
    }
    ++occurrences[id];
  }
  for (const auto& [id, count] : occurrences) {
    float& logit = logits[static_cast<size_t>(id)];
    if (params.repetition_penalty != 1.0f) {
      logit = logit > 0.0f ? logit / params.repetition_penalty : logit * params.repetition_penalty;
    }
    logit -= static_cast<float>(count) * params.frequency_penalty + params.presence_penalty;
  }
}

std::vector<double> sampling_distribution(std::span<const float> logits, std::span<const int32_t> history,
                                          const SamplingParams& params) {
  validate_sampling_params(params);
  std::vector<double> probabilities(logits.size(), 0.0);
  for (const Candidate& c : sampling_candidates(logits, history, params)) {
    probabilities[static_cast<size_t>(c.id)] = c.weight;
  }
  return probabilities;
}

Sampler::Sampler(SamplingParams params) : params_(std::move(params)), random_(params_.seed) {
  validate_sampling_params(params_);
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const std::vector<Candidate> candidates = sampling_candidates(logits, history, params_);
  if (candidates.size() == 1) return candidates.front().id;  // greedy, or a forced token

  // 53 random bits → a double uniform in [0, 1).
  const auto uniform = [this] { return static_cast<double>(random_() >> 11) * 0x1.0p-53; };

  if (params_.gumbel_max) {
    // argmax(p / E), E ~ Exp(1): the official reference's draw. -log(1 - u) is Exp(1) for u in
    // [0, 1) and never takes the log of 0.
    int32_t best = candidates.front().id;
    double best_score = -1.0;
    for (const Candidate& c : candidates) {
      const double score = c.weight / -std::log1p(-uniform());
      if (score > best_score) {
        best_score = score;
        best = c.id;
      }
    }
    return best;
  }

  const double target = uniform();
  double cumulative = 0.0;
  for (const Candidate& c : candidates) {
    cumulative += c.weight;
    if (target < cumulative) return c.id;
  }
  return candidates.back().id;  // rounding left the total a hair below the target
}

}  // namespace lightseek

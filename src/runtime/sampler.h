// Token sampling: turns one row of logits into the next token id (spec §13, sampling row).
// Supports the usual OpenAI/vLLM controls and DeepSeek's own Gumbel-max draw.
//
// The steps, in order:
//   logit bias → repetition penalty → frequency and presence penalties
//   → temperature 0: argmax (ties go to the lowest id), done
//   → divide by temperature → top-k → softmax → top-p → min-p → renormalise → draw
// The draw is inverse-CDF sampling with one uniform number, or with gumbel_max the official
// reference's argmax(p / E) with E ~ Exp(1) drawn per candidate token. Both draw from the same
// distribution; they use the random stream differently, so their token sequences differ.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <vector>

namespace lightseek {

struct SamplingParams {
  float temperature = 1.0f;  // 0 = greedy
  int32_t top_k = 0;         // keep the k most likely tokens; 0 = off
  float top_p = 1.0f;        // keep the smallest most-likely set with mass >= top_p; 1 = off
  float min_p = 0.0f;        // drop tokens with p < min_p * p_max; 0 = off
  // CTRL-style, for every token in the history: positive logits are divided by it and negative
  // ones multiplied, so a value above 1 always makes the token less likely. 1 = off.
  float repetition_penalty = 1.0f;
  float frequency_penalty = 0.0f;  // OpenAI: logit -= count_in_history * frequency_penalty
  float presence_penalty = 0.0f;   // OpenAI: logit -= presence_penalty once the token occurred
  std::map<int32_t, float> logit_bias;  // added to the token's logit; -infinity bans the token
  uint64_t seed = 0;                    // same seed, same logits → same tokens
  bool gumbel_max = false;              // draw as the official generate.py does
};

// Throws Error naming the field for values outside their range: temperature negative or not
// finite, top_k negative, top_p outside (0, 1], min_p outside [0, 1], repetition_penalty not
// positive, penalties or biases NaN (a bias may be -infinity, not +infinity).
void validate_sampling_params(const SamplingParams& params);

// Applies logit bias, then the repetition, frequency and presence penalties, in place.
// `history` is the token sequence the penalties count over (see Sampler::sample). Throws Error
// for a bias or history token id outside the vocabulary (logits.size()).
void apply_logit_bias_and_penalties(std::span<float> logits, std::span<const int32_t> history,
                                    const SamplingParams& params);

// The distribution a draw is made from, one probability per token id (0 for excluded tokens):
// every step above except the draw. Greedy gives a one-hot vector. For tests and inspection.
std::vector<double> sampling_distribution(std::span<const float> logits, std::span<const int32_t> history,
                                          const SamplingParams& params);

class Sampler {
 public:
  // Validates the parameters (throws Error) and seeds the random stream.
  explicit Sampler(SamplingParams params);

  // Picks the next token from one row of logits (vocabulary size = logits.size()). `history`
  // is what the penalties count: OpenAI's frequency and presence penalties are defined over
  // the generated tokens, so a server passes those (passing prompt + generated also penalises
  // repeating the prompt). Throws Error for NaN or +infinity logits, out-of-range ids, or when
  // every token is banned.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 random_;
};

}  // namespace lightseek

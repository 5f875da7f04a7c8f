#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/sampler.h"

namespace lightseek {
namespace {

using ::testing::HasSubstr;

constexpr float kInfinity = std::numeric_limits<float>::infinity();

std::vector<float> logits_of(const std::vector<double>& probabilities) {
  std::vector<float> logits;
  for (double p : probabilities) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

// softmax(logits / temperature), written out independently of the sampler.
std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
  double max_logit = -std::numeric_limits<double>::infinity();
  for (float l : logits) max_logit = std::max(max_logit, static_cast<double>(l));
  std::vector<double> probabilities;
  double total = 0.0;
  for (float l : logits) {
    probabilities.push_back(std::exp((static_cast<double>(l) - max_logit) / temperature));
    total += probabilities.back();
  }
  for (double& p : probabilities) p /= total;
  return probabilities;
}

std::vector<double> frequencies(Sampler& sampler, const std::vector<float>& logits, int draws) {
  std::vector<double> counts(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i) counts[static_cast<size_t>(sampler.sample(logits, {}))] += 1.0;
  for (double& c : counts) c /= draws;
  return counts;
}

// Each frequency within four standard errors of its probability; the seed is fixed, so this is
// deterministic, and four errors leave room for an unlucky but correct stream.
void expect_frequencies_match(const std::vector<double>& observed, const std::vector<double>& expected, int draws) {
  ASSERT_EQ(observed.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const double standard_error = std::sqrt(expected[i] * (1.0 - expected[i]) / draws);
    if (expected[i] == 0.0) {
      EXPECT_EQ(observed[i], 0.0) << "token " << i << " is excluded but was drawn";
    } else {
      EXPECT_NEAR(observed[i], expected[i], 4.0 * standard_error) << "token " << i;
    }
  }
}

void expect_distribution(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-6) << "token " << i;
}

TEST(Sampler, GreedyPicksTheLargestLogitAndBreaksTiesToTheLowestId) {
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  Sampler sampler(greedy);
  EXPECT_EQ(sampler.sample(std::vector<float>{0.1f, 2.5f, -1.0f, 2.4f}, {}), 1);
  EXPECT_EQ(sampler.sample(std::vector<float>{1.0f, 3.0f, 3.0f, 0.0f, 3.0f}, {}), 1);
  EXPECT_EQ(sampler.sample(std::vector<float>{-kInfinity, -5.0f}, {}), 1);
}

TEST(Sampler, TopKOfOneEqualsGreedy) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> small(-3, 3);  // few values, so ties are common
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> logits(20);
    for (float& l : logits) l = static_cast<float>(small(random));
    SamplingParams top1;
    top1.top_k = 1;
    top1.temperature = 0.7f;
    top1.seed = static_cast<uint64_t>(trial);
    top1.gumbel_max = trial % 2 == 1;
    Sampler a(greedy);
    Sampler b(top1);
    ASSERT_EQ(b.sample(logits, {}), a.sample(logits, {})) << "trial " << trial;
  }
}

TEST(Sampler, TopPNeverDrawsTheExcludedTail) {
  const std::vector<float> logits = logits_of({0.5, 0.3, 0.1, 0.06, 0.04});
  SamplingParams params;
  params.top_p = 0.75f;  // 0.5 < 0.75, 0.5 + 0.3 >= 0.75: tokens 0 and 1 survive
  params.seed = 11;
  const std::vector<double> expected = {0.625, 0.375, 0.0, 0.0, 0.0};
  expect_distribution(sampling_distribution(logits, {}, params), expected);
  Sampler sampler(params);
  constexpr int kDraws = 10000;
  expect_frequencies_match(frequencies(sampler, logits, kDraws), expected, kDraws);
}

TEST(Sampler, TopPKeepsAtLeastTheMostLikelyToken) {
  SamplingParams params;
  params.top_p = 1e-6f;
  expect_distribution(sampling_distribution(logits_of({0.2, 0.7, 0.1}), {}, params), {0.0, 1.0, 0.0});
}

TEST(Sampler, FrequenciesMatchTheTemperatureScaledSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 0.0f};
  SamplingParams params;
  params.temperature = 0.8f;
  params.seed = 2024;
  const std::vector<double> expected = softmax(logits, 0.8);
  expect_distribution(sampling_distribution(logits, {}, params), expected);
  Sampler sampler(params);
  constexpr int kDraws = 40000;
  expect_frequencies_match(frequencies(sampler, logits, kDraws), expected, kDraws);
}

TEST(Sampler, TopKFrequenciesAreRenormalised) {
  const std::vector<float> logits = logits_of({0.1, 0.4, 0.05, 0.3, 0.15});
  SamplingParams params;
  params.top_k = 3;
  params.seed = 5;
  const std::vector<double> expected = {0.0, 0.4 / 0.85, 0.0, 0.3 / 0.85, 0.15 / 0.85};
  expect_distribution(sampling_distribution(logits, {}, params), expected);
  Sampler sampler(params);
  constexpr int kDraws = 20000;
  expect_frequencies_match(frequencies(sampler, logits, kDraws), expected, kDraws);
}

TEST(Sampler, MinPExcludesTokensBelowAFractionOfTheMostLikely) {
  const std::vector<float> logits = logits_of({0.4, 0.25, 0.15, 0.1, 0.06, 0.04});
  SamplingParams params;
  params.min_p = 0.3f;  // threshold 0.3 * 0.4 = 0.12
  params.seed = 99;
  const std::vector<double> expected = {0.4 / 0.8, 0.25 / 0.8, 0.15 / 0.8, 0.0, 0.0, 0.0};
  expect_distribution(sampling_distribution(logits, {}, params), expected);
  Sampler sampler(params);
  constexpr int kDraws = 20000;
  expect_frequencies_match(frequencies(sampler, logits, kDraws), expected, kDraws);
}

TEST(Sampler, FiltersApplyInOrderTopKTopPMinP) {
  const std::vector<float> logits = logits_of({0.35, 0.25, 0.2, 0.1, 0.1});
  SamplingParams params;
  params.top_k = 4;    // drops token 4 (equal to token 3, higher id): 0.35, 0.25, 0.2, 0.1 over 0.9
  params.top_p = 0.9f;  // cumulative 0.389, 0.667, 0.889, 1.0: all four needed to reach 0.9
  params.min_p = 0.5f;  // threshold 0.5 * 0.389: drops token 3 (0.111)
  expect_distribution(sampling_distribution(logits, {}, params), {0.35 / 0.8, 0.25 / 0.8, 0.2 / 0.8, 0.0, 0.0});
}

TEST(Sampler, PenaltiesChangeLogitsAsDefined) {
  const std::vector<float> original = {3.0f, -1.0f, 2.0f, 0.5f, -2.0f};
  const std::vector<int32_t> history = {0, 1, 0, 0, 3};

  SamplingParams repetition;
  repetition.repetition_penalty = 2.0f;
  std::vector<float> logits = original;
  apply_logit_bias_and_penalties(logits, history, repetition);
  EXPECT_THAT(logits, ::testing::ElementsAre(1.5f, -2.0f, 2.0f, 0.25f, -2.0f));

  SamplingParams openai;
  openai.frequency_penalty = 0.5f;
  openai.presence_penalty = 0.25f;
  logits = original;
  apply_logit_bias_and_penalties(logits, history, openai);
  // token 0 seen 3 times, token 1 and 3 once, tokens 2 and 4 never
  EXPECT_THAT(logits, ::testing::ElementsAre(3.0f - 1.5f - 0.25f, -1.0f - 0.5f - 0.25f, 2.0f, 0.5f - 0.5f - 0.25f,
                                             -2.0f));

  // Bias first, then the repetition penalty acts on the biased logit.
  SamplingParams both;
  both.logit_bias = {{2, 1.0f}, {1, 2.0f}};
  both.repetition_penalty = 2.0f;
  logits = original;
  apply_logit_bias_and_penalties(logits, history, both);
  EXPECT_THAT(logits, ::testing::ElementsAre(1.5f, 0.5f, 3.0f, 0.25f, -2.0f));

  // The sampler uses exactly these logits.
  SamplingParams greedy = openai;
  greedy.temperature = 0.0f;
  EXPECT_EQ(Sampler(greedy).sample(original, history), 2);
}

TEST(Sampler, LogitBiasForcesAndBansTokens) {
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f, 5.0f};
  SamplingParams ban;
  ban.logit_bias = {{3, -kInfinity}};
  ban.seed = 3;
  Sampler banned(ban);
  for (int i = 0; i < 2000; ++i) ASSERT_NE(banned.sample(logits, {}), 3);
  EXPECT_EQ(sampling_distribution(logits, {}, ban)[3], 0.0);

  SamplingParams force;
  force.logit_bias = {{2, 100.0f}};
  force.seed = 3;
  Sampler forced(force);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(forced.sample(logits, {}), 2);

  SamplingParams greedy_ban = ban;
  greedy_ban.temperature = 0.0f;
  EXPECT_EQ(Sampler(greedy_ban).sample(logits, {}), 0);
}

std::vector<int32_t> draw_sequence(SamplingParams params, int count) {
  const std::vector<float> logits = {0.5f, 0.1f, 0.3f, 0.2f, 0.4f, 0.0f, 0.25f, 0.35f};
  Sampler sampler(std::move(params));
  std::vector<int32_t> tokens;
  for (int i = 0; i < count; ++i) tokens.push_back(sampler.sample(logits, {}));
  return tokens;
}

TEST(Sampler, SameSeedGivesTheSameTokensAndADifferentSeedDifferentOnes) {
  for (bool gumbel : {false, true}) {
    SamplingParams params;
    params.gumbel_max = gumbel;
    params.seed = 42;
    const std::vector<int32_t> first = draw_sequence(params, 200);
    EXPECT_EQ(draw_sequence(params, 200), first);
    params.seed = 43;
    EXPECT_NE(draw_sequence(params, 200), first);
  }
}

TEST(Sampler, GumbelMaxFrequenciesMatchTheTemperatureScaledSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 0.0f};
  SamplingParams params;
  params.temperature = 0.7f;
  params.gumbel_max = true;
  params.seed = 77;
  Sampler sampler(params);
  constexpr int kDraws = 40000;
  expect_frequencies_match(frequencies(sampler, logits, kDraws), softmax(logits, 0.7), kDraws);

  // With a filter, the excluded tokens are never chosen either.
  params.top_k = 2;
  Sampler filtered(params);
  const std::vector<double> top2 = softmax({2.0f, 3.0f}, 0.7);
  expect_frequencies_match(frequencies(filtered, logits, kDraws), {0.0, top2[0], 0.0, 0.0, top2[1], 0.0}, kDraws);
}

TEST(Sampler, RejectsInvalidParameters) {
  const auto expect_rejected = [](SamplingParams params, const std::string& field) {
    try {
      Sampler sampler(params);
      ADD_FAILURE() << "accepted an invalid " << field;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(field));
    }
  };
  const auto with = [](auto change) {
    SamplingParams params;
    change(params);
    return params;
  };
  expect_rejected(with([](SamplingParams& p) { p.temperature = -0.5f; }), "temperature");
  expect_rejected(with([](SamplingParams& p) { p.temperature = std::nanf(""); }), "temperature");
  expect_rejected(with([](SamplingParams& p) { p.temperature = kInfinity; }), "temperature");
  expect_rejected(with([](SamplingParams& p) { p.top_k = -1; }), "top_k");
  expect_rejected(with([](SamplingParams& p) { p.top_p = 0.0f; }), "top_p");
  expect_rejected(with([](SamplingParams& p) { p.top_p = 1.5f; }), "top_p");
  expect_rejected(with([](SamplingParams& p) { p.top_p = std::nanf(""); }), "top_p");
  expect_rejected(with([](SamplingParams& p) { p.min_p = -0.1f; }), "min_p");
  expect_rejected(with([](SamplingParams& p) { p.min_p = 1.1f; }), "min_p");
  expect_rejected(with([](SamplingParams& p) { p.repetition_penalty = 0.0f; }), "repetition_penalty");
  expect_rejected(with([](SamplingParams& p) { p.frequency_penalty = std::nanf(""); }), "frequency_penalty");
  expect_rejected(with([](SamplingParams& p) { p.presence_penalty = kInfinity; }), "presence_penalty");
  expect_rejected(with([](SamplingParams& p) { p.logit_bias = {{-1, 1.0f}}; }), "logit_bias");
  expect_rejected(with([](SamplingParams& p) { p.logit_bias = {{0, kInfinity}}; }), "logit_bias");
  EXPECT_NO_THROW(Sampler(with([](SamplingParams& p) {
    p.top_p = 1.0f;
    p.min_p = 1.0f;
    p.temperature = 0.0f;
  })));
}

TEST(Sampler, RejectsBadLogitsAndTokenIds) {
  Sampler sampler(SamplingParams{});
  const auto expect_error = [&sampler](std::vector<float> logits, std::vector<int32_t> history,
                                       const std::string& message) {
    try {
      sampler.sample(logits, history);
      ADD_FAILURE() << "no error for: " << message;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(message));
    }
  };
  expect_error({}, {}, "empty");
  expect_error({0.0f, std::nanf("")}, {}, "token 1");
  expect_error({0.0f, kInfinity}, {}, "token 1");
  expect_error({-kInfinity, -kInfinity}, {}, "every token is banned");

  SamplingParams penalised;
  penalised.presence_penalty = 1.0f;
  Sampler penalising(penalised);
  EXPECT_THROW(penalising.sample(std::vector<float>{0.0f, 1.0f}, std::vector<int32_t>{0, 2}), Error);

  SamplingParams biased;
  biased.logit_bias = {{5, 1.0f}};
  Sampler biasing(biased);
  try {
    biasing.sample(std::vector<float>{0.0f, 1.0f}, {});
    ADD_FAILURE() << "bias outside the vocabulary accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("outside the vocabulary of 2"));
  }
}

}  // namespace
}  // namespace lightseek

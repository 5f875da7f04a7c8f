#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "model_fixture.h"
#include "runtime/session.h"

namespace lightseek {
namespace {

std::vector<int32_t> tokens(int64_t count, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int32_t> pick(2, 1279);
  std::vector<int32_t> out(static_cast<size_t>(count));
  for (auto& token : out) token = pick(generator);
  return out;
}

std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The logits of the last token of `prompt` from a fresh sequence.
std::vector<float> fresh_last_logits(Transformer& model, const std::vector<int32_t>& prompt) {
  SequenceState state = model.new_sequence();
  std::vector<float> logits;
  model.forward(state, prompt, logits);
  return {logits.end() - model.config().vocab_size, logits.end()};
}

TEST(Session, ExtendingThePromptProcessesOnlyTheNewTokens) {
  auto model = LoadedModel::open("tiny_native");
  Session session(*model->transformer);
  const auto first = tokens(30, 1);
  EXPECT_EQ(session.prefill(first).processed, 30);
  session.append(77);
  session.append(78);
  const auto second = concat(concat(first, {77, 78}), tokens(9, 2));
  const PrefillStats stats = session.prefill(second);
  EXPECT_EQ(stats.reused, 32);
  EXPECT_EQ(stats.processed, 9);
  EXPECT_EQ(session.last_logits(), fresh_last_logits(*model->transformer, second));
}

TEST(Session, ADivergingPromptResumesFromTheLatestCheckpointInTheSharedPrefix) {
  auto model = LoadedModel::open("tiny_native");
  Session session(*model->transformer);
  const auto head = tokens(21, 3);  // crosses compression windows of 4 and 16
  const auto first = concat(head, tokens(15, 4));
  session.prefill(first, {10, 21});
  EXPECT_EQ(session.checkpoint_count(), 2u);
  session.append(5);

  const auto second = concat(head, tokens(12, 5));  // same first 21 tokens, then different
  const PrefillStats stats = session.prefill(second);
  EXPECT_EQ(stats.reused, 21);
  EXPECT_EQ(stats.processed, 12);
  EXPECT_EQ(session.last_logits(), fresh_last_logits(*model->transformer, second));
  EXPECT_EQ(session.tokens(), second);
}

TEST(Session, APromptThatIsAPrefixOfTheHistoryUsesItsCheckpoint) {
  auto model = LoadedModel::open("tiny_native");
  Session session(*model->transformer);
  const auto all = tokens(40, 6);
  session.prefill(all, {25});
  const std::vector<int32_t> prefix(all.begin(), all.begin() + 25);
  const PrefillStats stats = session.prefill(prefix);
  EXPECT_EQ(stats.processed, 0);
  EXPECT_EQ(session.last_logits(), fresh_last_logits(*model->transformer, prefix));
  // Without a usable checkpoint it starts over, and is still right.
  const std::vector<int32_t> shorter(all.begin(), all.begin() + 7);
  EXPECT_EQ(session.prefill(shorter).processed, 7);
  EXPECT_EQ(session.last_logits(), fresh_last_logits(*model->transformer, shorter));
}

TEST(Session, TheSamePromptTwiceIsFree) {
  auto model = LoadedModel::open("tiny");
  Session session(*model->transformer);
  const auto prompt = tokens(12, 7);
  session.prefill(prompt);
  const auto before = session.last_logits();
  EXPECT_EQ(session.prefill(prompt).processed, 0);
  EXPECT_EQ(session.last_logits(), before);
}

}  // namespace
}  // namespace lightseek

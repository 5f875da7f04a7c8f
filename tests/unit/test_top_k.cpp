// The indexer's selection: the same set as ordering every index by (score descending, index
// ascending) and keeping the first k, returned in ascending index order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "model/top_k.h"

namespace lightseek {
namespace {

std::vector<int64_t> by_sorting(const std::vector<float>& scores, int64_t k) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return scores[x] > scores[y]; });
  order.resize(static_cast<size_t>(std::min<int64_t>(k, static_cast<int64_t>(scores.size()))));
  std::sort(order.begin(), order.end());
  return order;
}

TEST(TopK, MatchesOrderingEveryIndexWithTiesToTheEarlierEntry) {
  std::mt19937 rng(3);
  for (int64_t n : {1, 2, 7, 100, 1000, 20000}) {
    for (int64_t k : {1, 3, 64, 512}) {
      // Few distinct values, so that the k-th one is usually shared by several entries.
      std::vector<float> scores(static_cast<size_t>(n));
      for (float& s : scores) s = static_cast<float>(rng() % 13) * 0.5f - 2.0f;
      if (n > 5) scores[5] = -0.0f;  // equal to +0
      std::vector<int64_t> chosen = {42};  // replaced, not appended to
      top_k_indices(scores.data(), n, k, chosen);
      ASSERT_EQ(chosen, by_sorting(scores, k)) << "n " << n << " k " << k;
    }
  }
}

// Past 64K scores the threshold comes from a sample: a sample that sits high (the best scores
// spread evenly, the rest in between) or holds a few huge values must not change the result.
TEST(TopK, ASampledThresholdGivesTheSameEntries) {
  std::mt19937 rng(8);
  for (int pattern = 0; pattern < 3; ++pattern) {
    const int64_t n = 200000;
    std::vector<float> scores(static_cast<size_t>(n));
    for (float& s : scores) s = static_cast<float>(rng() % 1000);
    for (int64_t i = 0; i < n; i += 48) {  // every sampled position (stride 48) high
      if (pattern == 1) scores[static_cast<size_t>(i)] = 5000.0f + static_cast<float>(i % 7);
      if (pattern == 2 && i % 4800 == 0) scores[static_cast<size_t>(i)] = 1e30f;
    }
    for (int64_t k : {1, 512, 2048}) {
      std::vector<int64_t> chosen;
      top_k_indices(scores.data(), n, k, chosen);
      ASSERT_EQ(chosen, by_sorting(scores, k)) << "pattern " << pattern << " k " << k;
    }
  }
}

TEST(TopK, TakesEverythingWhenKReachesTheCountAndNothingForZero) {
  const std::vector<float> scores = {3.0f, 1.0f, 2.0f};
  std::vector<int64_t> chosen;
  top_k_indices(scores.data(), 3, 512, chosen);
  EXPECT_EQ(chosen, (std::vector<int64_t>{0, 1, 2}));
  top_k_indices(scores.data(), 3, 0, chosen);
  EXPECT_TRUE(chosen.empty());
  top_k_indices(scores.data(), 0, 4, chosen);
  EXPECT_TRUE(chosen.empty());
}

}  // namespace
}  // namespace lightseek

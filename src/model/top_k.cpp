#include "model/top_k.h"

#include <algorithm>
#include <functional>

namespace lightseek {

namespace {
// The k best of `indices` (ascending) by score, ties to the earlier: the k-th largest value, then
// one pass in index order. `values` is scratch.
void best_of(const float* scores, const std::vector<int64_t>& indices, int64_t k, std::vector<float>& values,
             std::vector<int64_t>& chosen) {
  values.clear();
  for (int64_t s : indices) values.push_back(scores[s]);
  std::nth_element(values.begin(), values.begin() + (k - 1), values.end(), std::greater<float>());
  const float kth = values[static_cast<size_t>(k - 1)];
  int64_t above = 0;
  for (int64_t s : indices) above += scores[s] > kth;
  int64_t ties_left = k - above;  // the earliest entries equal to the k-th value fill the rest
  for (int64_t s : indices) {
    if (scores[s] > kth || (scores[s] == kth && ties_left-- > 0)) chosen.push_back(s);
  }
}
}  // namespace

void top_k_indices(const float* scores, int64_t n, int64_t k, std::vector<int64_t>& chosen) {
  k = std::clamp<int64_t>(k, 0, std::max<int64_t>(n, 0));
  chosen.clear();
  if (k == 0) return;
  thread_local std::vector<int64_t> candidates;
  thread_local std::vector<float> values;
  candidates.clear();
  constexpr int64_t kSamples = 4096;
  if (k < n && n >= 16 * k && n >= 4 * kSamples) {
    // A threshold from an even sample, set low enough that usually more than k scores reach it:
    // then the k-th largest score reaches it too, and only the few candidates need ordering.
    const int64_t stride = n / kSamples;
    values.clear();
    for (int64_t i = 0; i < kSamples; ++i) values.push_back(scores[i * stride]);
    const int64_t rank = std::min(kSamples, 2 * k * kSamples / n + 16);
    std::nth_element(values.begin(), values.begin() + (rank - 1), values.end(), std::greater<float>());
    const float threshold = values[static_cast<size_t>(rank - 1)];
    for (int64_t s = 0; s < n; ++s) {
      if (scores[s] >= threshold) candidates.push_back(s);
    }
    if (static_cast<int64_t>(candidates.size()) >= k) {
      best_of(scores, candidates, k, values, chosen);
      return;
    }
    candidates.clear();  // an unlucky sample: every index below
  }
  for (int64_t s = 0; s < n; ++s) candidates.push_back(s);
  if (k == n) {
    chosen = candidates;
    return;
  }
  best_of(scores, candidates, k, values, chosen);
}

}  // namespace lightseek

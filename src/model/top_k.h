// The indexer's choice of entries: the k best scores, ties to the earlier entry.
#pragma once

#include <cstdint>
#include <vector>

namespace lightseek {

// The indices of the min(k, n) largest scores, in ascending index order; among equal scores
// the smaller indices. (Through the k-th largest value instead of ordering indices by score:
// at a 1M context n is 260K per CSA layer and token.)
void top_k_indices(const float* scores, int64_t n, int64_t k, std::vector<int64_t>& chosen);

}  // namespace lightseek

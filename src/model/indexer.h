// The lightning indexer of CSA layers (spec §6.5): scores every visible index key for a query
// token and keeps the top-k compressed entries for attention.
#pragma once

#include <cstdint>
#include <vector>

#include "formats/model_binding.h"
#include "model/compressor.h"
#include "model/numerics.h"
#include "model/rope.h"

namespace lightseek {

class Indexer {
 public:
  Indexer(const ModelConfig& config, const IndexerWeights& weights, int ratio, const RopeTable& rope,
          NumericsOptions numerics);

  // Per token: the indexer queries q [tokens, heads, dim] from the normalised low-rank query cq,
  // rotated and round-tripped per the numerics, and the head weights w [tokens, heads] from the
  // normalised block input a.
  void project(const float* cq, const float* a, int64_t tokens, int64_t start, float* q, float* w) const;

  // The min(top_k, keys) best entries for one query, in ascending order (model/top_k).
  void select(const float* q, const float* w, const AttentionState& state, std::vector<int64_t>& chosen) const;

  const Compressor& compressor() const { return compressor_; }
  int64_t heads() const { return heads_; }
  int64_t dim() const { return dim_; }

 private:
  int64_t heads_, dim_, top_k_, rope_dim_;
  const RopeTable& rope_;
  NumericsOptions numerics_;
  WeightMatrix wq_b_, weights_proj_;
  Compressor compressor_;
};

}  // namespace lightseek

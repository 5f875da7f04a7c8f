// The lightning indexer of CSA layers (spec §6.5): scores every visible index key for a query
// token and keeps the top-k compressed entries for attention.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "formats/model_binding.h"
#include "model/compressor.h"
#include "model/numerics.h"
#include "model/rope.h"

namespace lightseek {

// Per token, the chosen compressed entries: token t's are entries[t · stride, + count[t]).
struct IndexSelection {
  int64_t stride = 0;
  std::vector<int64_t> entries, count;
  std::span<const int64_t> of(int64_t token) const {
    return {entries.data() + token * stride, static_cast<size_t>(count[static_cast<size_t>(token)])};
  }
};

class Indexer {
 public:
  Indexer(const ModelConfig& config, const IndexerWeights& weights, int ratio, const RopeTable& rope,
          NumericsOptions numerics);

  // Per token: the indexer queries q [tokens, heads, dim] from the normalised low-rank query cq,
  // rotated and round-tripped per the numerics, and the head weights w [tokens, heads] from the
  // normalised block input a.
  void project(const float* cq, const float* a, int64_t tokens, int64_t start, float* q, float* w) const;

  // The entries each of `tokens` consecutive queries (q, w as project() gives them) attends to:
  // token t sees the first visible[t] index keys of the state (non-decreasing in t) and keeps the
  // min(top_k, visible[t]) best, in ascending order (model/top_k). Under fast numerics a
  // prompt's tokens are scored together, so that each key loaded serves all of them.
  void select(const float* q, const float* w, int64_t tokens, const int64_t* visible, const AttentionState& state,
              IndexSelection& selection) const;

  const Compressor& compressor() const { return compressor_; }
  int64_t top_k() const { return top_k_; }
  int64_t heads() const { return heads_; }
  int64_t dim() const { return dim_; }

 private:
  void select_exact(const float* q, const float* w, int64_t visible, const AttentionState& state,
                    std::vector<int64_t>& chosen) const;
  void select_fast(const float* q, const float* w, int64_t tokens, const int64_t* visible, const AttentionState& state,
                   IndexSelection& selection) const;

  int64_t heads_, dim_, top_k_, rope_dim_;
  const RopeTable& rope_;
  NumericsOptions numerics_;
  WeightMatrix wq_b_, weights_proj_;
  Compressor compressor_;
};

}  // namespace lightseek

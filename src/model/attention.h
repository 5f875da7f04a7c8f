// One layer's attention (spec §6): low-rank query with per-head norm, the single shared K=V
// head, partial RoPE, the sliding window plus compressed entries (all of them for HCA, the
// indexer's top-k for CSA), attention sinks, inverse RoPE and the grouped low-rank output.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "formats/model_binding.h"
#include "model/compressor.h"
#include "model/indexer.h"
#include "model/numerics.h"
#include "model/rope.h"
#include "model/sequence_state.h"

namespace lightseek {

// A run of consecutive tokens of one sequence inside a batch.
struct Segment {
  int64_t offset = 0;  // first row in the batch
  int64_t tokens = 0;
  int64_t start = 0;   // position of the first token
  AttentionState* state = nullptr;
};

class Attention {
 public:
  Attention(const ModelConfig& config, const AttentionWeights& weights, const LayerSpec& layer,
            NumericsOptions numerics);

  // a: [rows, D] normalised inputs, out: [rows, D]; each segment reads and extends its state.
  void forward(const float* a, int64_t rows, const std::vector<Segment>& segments, float* out) const;

 private:
  // Per-head norm without weight, then RoPE, of the query heads [head_begin, head_end) in place.
  void prepare_queries(float* q, int64_t head_begin, int64_t head_end, int64_t position) const;
  // q: the token's raw query heads, prepared here (by each thread for the heads it attends with).
  void attend(float* q, const AttentionState& state, int64_t position, std::span<const int64_t> selected,
              float* out) const;

  const ModelConfig& config_;
  const AttentionWeights& weights_;
  LayerSpec layer_;
  NumericsOptions numerics_;
  RopeTable rope_;
  std::vector<float> q_norm_, kv_norm_, sink_;
  std::unique_ptr<Compressor> compressor_;
  std::unique_ptr<Indexer> indexer_;
};

}  // namespace lightseek

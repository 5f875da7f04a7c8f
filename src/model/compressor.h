// The KV compressor (spec §6.4, §11.1): pools every `ratio` tokens into one entry with a learned
// per-channel softmax gate. CSA (ratio 4) pools overlapping windows from two series; HCA pools
// non-overlapping windows. The main compressor builds compressed KV; the indexer's own
// compressor builds index keys.
#pragma once

#include <cstdint>

#include "core/weight_matrix.h"
#include "formats/model_binding.h"
#include "model/numerics.h"
#include "model/rope.h"
#include "model/sequence_state.h"

namespace lightseek {

class Compressor {
 public:
  enum class Output { MainKv, IndexKey };

  Compressor(const ModelConfig& config, const CompressorWeights& weights, int ratio, int64_t width, Output output,
             const RopeTable& rope, NumericsOptions numerics);

  int64_t vector_width() const { return (overlapping_ ? 2 : 1) * width_; }

  // u = a·Wkvᵀ and z = a·Wgateᵀ for `tokens` rows of the block input a [tokens, D]:
  // u, z [tokens, vector_width()].
  void project(const float* a, int64_t tokens, float* u, float* z) const;

  // Feeds one token (its u and z rows) at `position`. When its window completes, writes the
  // finished entry (normalised, rotated, and round-tripped per the numerics) to `entry`
  // [width] and returns true.
  bool step(CompressorState& state, const float* u, const float* z, int64_t position, float* entry) const;

 private:
  int ratio_;
  int64_t width_;
  bool overlapping_;
  Output output_;
  const RopeTable& rope_;
  NumericsOptions numerics_;
  int64_t rope_dim_;
  float norm_eps_;
  WeightMatrix wkv_, wgate_;
  std::vector<float> ape_, norm_;
};

}  // namespace lightseek

// Manifold-constrained hyper-connections (spec §5): the residual stream is hc_mult parallel
// copies, collapsed into one input per sub-block and expanded back with Sinkhorn-projected
// mixing weights.
#pragma once

#include <cstdint>
#include <vector>

#include "core/weight_matrix.h"
#include "formats/model_binding.h"
#include "formats/model_config.h"
#include "model/numerics.h"

namespace lightseek {

class HyperConnection {
 public:
  HyperConnection(const ModelConfig& config, const HyperConnectionWeights& weights, NumericsOptions numerics = {});

  // For each token of streams [tokens, n, D]: computes the mix (§5.2), writes the collapsed
  // input Σ_j pre[j]·X[j] to `collapsed` [tokens, D], and keeps post/comb for expand().
  void collapse(const float* streams, int64_t tokens, float* collapsed);
  // X_new[k] = post[k]·output + Σ_j comb[j,k]·X_old[j] (§5.3), in place on streams.
  void expand(const float* output, int64_t tokens, float* streams) const;

 private:
  int64_t streams_, dim_, iterations_;
  float norm_eps_, hc_eps_;
  NumericsOptions numerics_;
  WeightMatrix fn_;
  std::vector<float> base_, scale_;
  std::vector<float> post_, comb_;  // per token of the last collapse
  // Fast numerics split a prompt's tokens over the kernel threads in multiples of this; with
  // fewer tokens than that for every thread (decode's one), expand splits each token's columns
  // in multiples of kColumnGrain.
  static constexpr int64_t kTokenGrain = 4;
  static constexpr int64_t kColumnGrain = 16;
};

// The final collapse (§5.4): y = Σ_j w[j]·X[j] with w = sigmoid(μ·scale + base) + eps.
class HyperConnectionHead {
 public:
  HyperConnectionHead(const ModelConfig& config, const HyperConnectionWeights& weights,
                      NumericsOptions numerics = {});
  void collapse(const float* streams, int64_t tokens, float* out) const;

 private:
  int64_t streams_, dim_;
  float norm_eps_, hc_eps_;
  NumericsOptions numerics_;
  WeightMatrix fn_;
  std::vector<float> base_, scale_;
};

// A view of an F32/BF16 tensor as a matrix [shape[0], rest].
WeightMatrix matrix_view(const TensorView& tensor);
std::vector<float> to_f32_vector(const TensorView& tensor);

}  // namespace lightseek

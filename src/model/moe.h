// The MoE feed-forward (spec §7): sqrt-softplus router with bias-corrected top-k (or the fixed
// token→expert table on hash layers), routed experts and one shared expert, each a SwiGLU with
// clamping.
#pragma once

#include <cstdint>
#include <vector>

#include "formats/model_binding.h"
#include "model/numerics.h"

namespace lightseek {

class Moe {
 public:
  Moe(const ModelConfig& config, const MoeWeights& weights, bool hash_routed, NumericsOptions numerics);

  // f: [rows, D] normalised inputs, token_ids: [rows] (hash routing), out: [rows, D].
  void forward(const float* f, int64_t rows, const int32_t* token_ids, float* out) const;

 private:
  // out += routing_weight · expert(x) for `rows` rows.
  void add_expert(const ExpertWeights& expert, const float* x, int64_t rows, const float* routing_weight,
                  float* out) const;

  const ModelConfig& config_;
  const MoeWeights& weights_;
  bool hash_routed_;
  NumericsOptions numerics_;
  std::vector<float> bias_;
  float limit_;
};

}  // namespace lightseek

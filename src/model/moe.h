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

  // out += each routed expert's output, added in expert order whatever the threads do. For a
  // prompt, whole experts go to the kernel threads, each expert's products on one thread; in
  // decode too when the experts divide evenly among the threads; otherwise every product is split
  // by rows.
  void add_routed_experts(const float* f, const std::vector<std::vector<int64_t>>& rows_of,
                          const std::vector<std::vector<float>>& weights_of, bool prompt, float* out) const;
  // Rows from which a forward pass runs experts in parallel; expert outputs held at a time.
  static constexpr int64_t kExpertParallelRows = 8;
  static constexpr int64_t kWaveRows = 4096;

  const ModelConfig& config_;
  const MoeWeights& weights_;
  bool hash_routed_;
  NumericsOptions numerics_;
  std::vector<float> bias_;
  float limit_;
};

}  // namespace lightseek

// Partial, interleaved rotary embedding (spec §6.2): the last rope_dim channels of a vector are
// rotated in pairs (2i, 2i+1) by position · ω_i. Sliding-window layers use rope_theta; compressed
// layers use compress_rope_theta with YaRN frequency interpolation (no magnitude scaling).
#pragma once

#include <cstdint>
#include <vector>

#include "formats/model_config.h"

namespace lightseek {

class RopeTable {
 public:
  RopeTable(const ModelConfig& config, bool compressed_layer);

  // Rotates the rope_dim channels at `x` (the tail of a head) by +position, or by −position when
  // `inverse` (the de-rotation of attention outputs).
  void rotate(float* x, int64_t position, bool inverse = false) const { rotate_heads(x, 1, 0, position, inverse); }
  // The same for `count` heads, head h's channels at x + h·stride: the angles' sines and cosines
  // once for all of them (a token's 64 query heads had each computed the same 32 again).
  void rotate_heads(float* x, int64_t count, int64_t stride, int64_t position, bool inverse = false) const;

  const std::vector<float>& frequencies() const { return frequencies_; }

 private:
  int64_t rope_dim_;
  std::vector<float> frequencies_;  // ω_i, i < rope_dim / 2
};

}  // namespace lightseek

#include "model/compressor.h"

#include <cmath>
#include <limits>

#include "model/linear_map.h"
#include "kernels/norm.h"
#include "kernels/quantize.h"
#include "model/hyper_connections.h"

namespace lightseek {

Compressor::Compressor(const ModelConfig& config, const CompressorWeights& weights, int ratio, int64_t width,
                       Output output, const RopeTable& rope, NumericsOptions numerics)
    : ratio_(ratio),
      width_(width),
      overlapping_(ratio == 4),
      output_(output),
      rope_(rope),
      numerics_(numerics),
      rope_dim_(config.rope_head_dim),
      norm_eps_(static_cast<float>(config.rms_norm_eps)),
      wkv_(weights.wkv),
      wgate_(weights.wgate),
      ape_(to_f32_vector(weights.ape)),
      norm_(to_f32_vector(weights.norm)) {}

void Compressor::project(const float* a, int64_t tokens, float* u, float* z) const {
  apply_linear(numerics_, wkv_, a, tokens, u);
  apply_linear(numerics_, wgate_, a, tokens, z);
}

bool Compressor::step(CompressorState& state, const float* u, const float* z, int64_t position, float* entry) const {
  const int64_t slot_in_window = position % ratio_;
  const int64_t vw = vector_width();
  const int64_t slot = (overlapping_ ? ratio_ : 0) + slot_in_window;
  const float* bias = ape_.data() + slot_in_window * vw;
  for (int64_t c = 0; c < vw; ++c) {
    state.u[slot * vw + c] = u[c];
    state.z[slot * vw + c] = z[c] + bias[c];
  }
  if ((position + 1) % ratio_ != 0) return false;

  // Per channel, softmax of the gates over the window's slots, then the gated sum. CSA reads the
  // first half (A) of the previous window's slots and the second half (B) of the current ones.
  const int64_t slots = overlapping_ ? 2 * ratio_ : ratio_;
  std::vector<float> gates(static_cast<size_t>(slots));
  for (int64_t k = 0; k < width_; ++k) {
    auto channel = [&](int64_t s) { return s * vw + (overlapping_ && s >= ratio_ ? width_ : 0) + k; };
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t s = 0; s < slots; ++s) max = std::max(max, state.z[channel(s)]);
    float sum = 0.0f;
    for (int64_t s = 0; s < slots; ++s) sum += (gates[s] = std::exp(state.z[channel(s)] - max));
    float pooled = 0.0f;
    for (int64_t s = 0; s < slots; ++s) pooled += gates[s] / sum * state.u[channel(s)];
    entry[k] = pooled;
  }
  if (overlapping_) {  // the current window becomes the previous one
    std::copy(state.u.begin() + ratio_ * vw, state.u.end(), state.u.begin());
    std::copy(state.z.begin() + ratio_ * vw, state.z.end(), state.z.begin());
  }

  rms_norm(entry, width_, norm_.data(), norm_eps_, entry);
  rope_.rotate(entry + width_ - rope_dim_, position + 1 - ratio_);  // the window's first position
  if (numerics_.kv_roundtrip()) {
    if (output_ == Output::MainKv) {
      fp8_roundtrip_blocks(entry, width_ - rope_dim_, 64);
    } else {
      hadamard_transform(entry, width_);
      fp4_roundtrip_blocks(entry, width_, 32);
    }
  }
  return true;
}

}  // namespace lightseek

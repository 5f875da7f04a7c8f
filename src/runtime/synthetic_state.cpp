#include "runtime/synthetic_state.h"

#include <algorithm>
#include <span>

#include "core/error.h"

namespace lightseek {

namespace {

// A 64K context fills hundreds of millions of floats on a full-size model, so the values come
// from splitmix64 and an Irwin-Hall sum of four 16-bit uniforms (mean 0, variance 1) rather
// than std::normal_distribution: a few ns each instead of tens.
class RoughNormal {
 public:
  explicit RoughNormal(uint64_t seed) : state_(seed) {}
  float next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const float sum = static_cast<float>((z & 0xFFFF) + ((z >> 16) & 0xFFFF) + ((z >> 32) & 0xFFFF) + (z >> 48));
    // Four uniforms on [0, 65535]: mean 4·32767.5, variance 4·65536²/12.
    constexpr float kMean = 4 * 32767.5f, kScale = 1.7320508f / 65536.0f;  // √(12/4) / 65536
    return (sum - kMean) * kScale;
  }
  void fill(std::span<float> values) {
    for (float& value : values) value = next();
  }

 private:
  uint64_t state_;
};

// The pending windows after `length` tokens: the current window holds the length mod ratio
// tokens since the last completed entry; a CSA compressor also keeps the last complete window,
// which exists once one window has completed (before that: u = 0, z = −∞, as reset).
void fill_pending(CompressorState& compressor, int64_t length, RoughNormal& random) {
  if (compressor.ratio == 0) return;
  const int64_t width = compressor.vector_width();
  const int64_t current_first_slot = compressor.overlapping ? compressor.ratio : 0;
  const int64_t partial = length % compressor.ratio;
  auto fill_slots = [&](int64_t first, int64_t count) {
    random.fill(std::span(compressor.u).subspan(static_cast<size_t>(first * width), static_cast<size_t>(count * width)));
    random.fill(std::span(compressor.z).subspan(static_cast<size_t>(first * width), static_cast<size_t>(count * width)));
  };
  if (compressor.overlapping && length >= compressor.ratio) fill_slots(0, compressor.ratio);
  fill_slots(current_first_slot, partial);
}

}  // namespace

void fill_synthetic_state(SequenceState& state, const ModelConfig& config, int64_t length, uint64_t seed) {
  if (length < 0) fail("synthetic context length must not be negative, got ", length);
  if (length >= config.max_position_embeddings) {
    fail("synthetic context of ", length, " tokens leaves no position for the next token (the model's maximum is ",
         config.max_position_embeddings, ")");
  }
  if (state.length != 0) fail("fill_synthetic_state needs a fresh sequence state, this one has ", state.length, " tokens");
  RoughNormal random(seed);
  for (AttentionState& layer : state.layers) {
    // Positions p < length sit in slot p mod window; a short context leaves the other slots unused.
    const int64_t ring_slots = std::min(length, layer.window);
    random.fill(std::span(layer.ring).first(static_cast<size_t>(ring_slots * layer.head_dim)));
    if (layer.compressor.ratio > 0) {
      std::vector<float> row(static_cast<size_t>(layer.head_dim));
      for (int64_t e = 0; e < length / layer.compressor.ratio; ++e) {
        random.fill(row);
        layer.entries.append(row.data());
      }
      fill_pending(layer.compressor, length, random);
    }
    if (layer.index_dim > 0 && layer.index_compressor.ratio > 0) {
      std::vector<float> key(static_cast<size_t>(layer.index_dim));
      for (int64_t k = 0; k < length / layer.index_compressor.ratio; ++k) {
        random.fill(key);
        layer.index_keys.append(key.data());
      }
      fill_pending(layer.index_compressor, length, random);
    }
  }
  state.length = length;
}

}  // namespace lightseek

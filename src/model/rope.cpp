#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace lightseek {

RopeTable::RopeTable(const ModelConfig& config, bool compressed_layer) : rope_dim_(config.rope_head_dim) {
  const double base = compressed_layer ? config.compress_rope_theta : config.rope_theta;
  const int64_t pairs = rope_dim_ / 2;
  frequencies_.resize(static_cast<size_t>(pairs));
  for (int64_t i = 0; i < pairs; ++i) {
    frequencies_[i] = static_cast<float>(1.0 / std::pow(base, static_cast<double>(2 * i) / static_cast<double>(rope_dim_)));
  }
  if (!compressed_layer || config.yarn.factor <= 1.0) return;
  // YaRN: pairs below `low` keep their frequency, pairs above `high` are divided by the factor,
  // and the ones between are blended linearly.
  const double dim = static_cast<double>(rope_dim_);
  const auto correction = [&](double rotations) {
    return dim * std::log(static_cast<double>(config.yarn.original_max_position) / (rotations * 2.0 * M_PI)) /
           (2.0 * std::log(base));
  };
  const double low = std::max(std::floor(correction(config.yarn.beta_fast)), 0.0);
  double high = std::min(std::ceil(correction(config.yarn.beta_slow)), dim - 1.0);
  if (high == low) high += 0.001;
  for (int64_t i = 0; i < pairs; ++i) {
    const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
    const float scaled = static_cast<float>(frequencies_[i] / config.yarn.factor);
    frequencies_[i] = static_cast<float>(scaled * ramp + frequencies_[i] * (1.0 - ramp));
  }
}

void RopeTable::rotate_heads(float* x, int64_t count, int64_t stride, int64_t position, bool inverse) const {
  const float sign = inverse ? -1.0f : 1.0f;
  const size_t pairs = frequencies_.size();
  thread_local std::vector<float> cosines, sines;
  cosines.resize(pairs);
  sines.resize(pairs);
  for (size_t i = 0; i < pairs; ++i) {
    const float angle = static_cast<float>(position) * frequencies_[i];
    cosines[i] = std::cos(angle);
    sines[i] = sign * std::sin(angle);
  }
  for (int64_t h = 0; h < count; ++h) {
    float* head = x + h * stride;
    for (size_t i = 0; i < pairs; ++i) {
      const float even = head[2 * i];
      const float odd = head[2 * i + 1];
      head[2 * i] = even * cosines[i] - odd * sines[i];
      head[2 * i + 1] = even * sines[i] + odd * cosines[i];
    }
  }
}

}  // namespace lightseek

#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>

#include "core/number_formats.h"

namespace lightseek {
namespace {

template <typename RoundToFormat>
void roundtrip_blocks(float* values, int64_t count, int64_t block, float qmax, float amax_floor,
                      RoundToFormat round_to_format) {
  const float inverse_qmax = 1.0f / qmax;
  for (int64_t start = 0; start < count; start += block) {
    const int64_t end = std::min(count, start + block);
    float amax = 0.0f;
    for (int64_t i = start; i < end; ++i) amax = std::max(amax, std::fabs(values[i]));
    amax = std::max(amax, amax_floor);
    const int exponent = ceil_log2(amax * inverse_qmax);
    for (int64_t i = start; i < end; ++i) {
      const float scaled = std::clamp(std::ldexp(values[i], -exponent), -qmax, qmax);
      values[i] = std::ldexp(round_to_format(scaled), exponent);
    }
  }
}

}  // namespace

void fp8_roundtrip_blocks(float* values, int64_t count, int64_t block) {
  roundtrip_blocks(values, count, block, 448.0f, 1e-4f,
                   [](float x) { return fp8_e4m3_to_f32(f32_to_fp8_e4m3(x)); });
}

void fp4_roundtrip_blocks(float* values, int64_t count, int64_t block) {
  roundtrip_blocks(values, count, block, 6.0f, 6.0f * std::ldexp(1.0f, -126),
                   [](float x) { return fp4_e2m1_to_f32(f32_to_fp4_e2m1(x)); });
}

void hadamard_transform(float* values, int64_t n) {
  for (int64_t half = 1; half < n; half *= 2) {
    for (int64_t start = 0; start < n; start += 2 * half) {
      for (int64_t i = start; i < start + half; ++i) {
        const float a = values[i];
        const float b = values[i + half];
        values[i] = a + b;
        values[i + half] = a - b;
      }
    }
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(n));
  for (int64_t i = 0; i < n; ++i) values[i] *= scale;
}

}  // namespace lightseek

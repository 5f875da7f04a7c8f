#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
      const float scaled = std::clamp(scale_by_power_of_two(values[i], -exponent), -qmax, qmax);
      values[i] = scale_by_power_of_two(round_to_format(scaled), exponent);
    }
  }
}

}  // namespace

void fp8_roundtrip_blocks(float* values, int64_t count, int64_t block) {
  roundtrip_blocks(values, count, block, 448.0f, 1e-4f, round_to_fp8_e4m3);
}

void fp4_roundtrip_blocks(float* values, int64_t count, int64_t block) {
  roundtrip_blocks(values, count, block, 6.0f, 6.0f * std::ldexp(1.0f, -126), round_to_fp4_e2m1);
}

bool fp4_rows_as_int8(const float* values, int64_t rows, int64_t dim, int8_t* codes, float* scale) {
  if (dim % 32 != 0) return false;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = values + r * dim;
    int lowest = std::numeric_limits<int>::max(), highest = std::numeric_limits<int>::min();
    for (int64_t b = 0; b < dim / 32; ++b) {
      float amax = 0.0f;
      for (int64_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(row[32 * b + i]));
      if (!std::isfinite(amax)) return false;
      if (amax == 0.0f) continue;  // a zero block takes no part
      const int exponent = ceil_log2(amax / 6.0f);  // the smallest e with every |value| ≤ 6 · 2^e
      lowest = std::min(lowest, exponent);
      highest = std::max(highest, exponent);
    }
    if (highest < lowest) lowest = highest = 0;  // an all-zero row
    if (highest - lowest > 2 || lowest < -126 || highest > 126) return false;
    const float to_doubled_codes = normal_power_of_two(1 - lowest);
    for (int64_t b = 0; b < dim / 32; ++b) {
      for (int64_t m = 0; m < 32; ++m) {
        const int64_t column = 32 * b + (m < 16 ? 2 * m : 2 * (m - 16) + 1);
        // The doubled code times 2^(e − lowest); exact, a power-of-two scaling. Only the
        // products need to be exact: any integer up to 48 will do.
        const float doubled = row[column] * to_doubled_codes;
        if (!(std::fabs(doubled) <= 48.0f)) return false;
        const float whole = static_cast<float>(static_cast<int>(doubled));
        if (whole != doubled) return false;
        codes[r * dim + 32 * b + m] = static_cast<int8_t>(whole);
      }
    }
    scale[r] = std::ldexp(1.0f, lowest - 1);
  }
  return true;
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

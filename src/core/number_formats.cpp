#include "core/number_formats.h"

#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace lightseek {

const float* fp8_e4m3_values() {
  static const auto values = [] {
    std::array<float, 256> v;
    for (int code = 0; code < 256; ++code) v[static_cast<size_t>(code)] = fp8_e4m3_to_f32(static_cast<uint8_t>(code));
    return v;
  }();
  return values.data();
}

uint16_t f32_to_bf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x0040);
  const uint32_t lsb = (bits >> 16) & 1;
  return static_cast<uint16_t>((bits + 0x7FFF + lsb) >> 16);
}

float fp8_e4m3_to_f32(uint8_t code) {
  const bool negative = code & 0x80;
  const int exponent = (code >> 3) & 0x0F;
  const int mantissa = code & 0x07;
  if (exponent == 0x0F && mantissa == 0x07) return std::numeric_limits<float>::quiet_NaN();
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -9);
  } else {
    magnitude = std::ldexp(static_cast<float>(8 + mantissa), exponent - 7 - 3);
  }
  return negative ? -magnitude : magnitude;
}

uint8_t f32_to_fp8_e4m3(float value) {
  const uint8_t sign = std::signbit(value) ? 0x80 : 0x00;
  if (std::isnan(value)) return sign | 0x7F;
  float magnitude = std::fabs(value);
  if (magnitude >= 448.0f) return sign | 0x7E;
  // Quantum of the binade that holds the value; below the smallest normal (2^-6) the
  // subnormal quantum 2^-9 applies. Dividing by a power of two is exact, so rint() sees the
  // true value and rounds ties to even.
  int binade = std::ilogb(magnitude);
  if (magnitude == 0.0f || binade < -6) binade = -6;
  const float quantum = std::ldexp(1.0f, binade - 3);
  const float steps = std::rint(magnitude / quantum);  // 0..16
  const float rounded = steps * quantum;
  if (rounded >= 448.0f) return sign | 0x7E;
  if (rounded < std::ldexp(1.0f, -6)) return sign | static_cast<uint8_t>(steps);  // subnormal
  const int exponent = std::ilogb(rounded);
  const int mantissa = static_cast<int>(std::ldexp(rounded, 3 - exponent)) - 8;
  return sign | static_cast<uint8_t>(((exponent + 7) << 3) | mantissa);
}

float e8m0_to_f32(uint8_t code) {
  if (code == 0xFF) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, static_cast<int>(code) - 127);
}

namespace {
constexpr float kFp4Values[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
}

float fp4_e2m1_to_f32(uint8_t nibble) {
  const float magnitude = kFp4Values[nibble & 0x07];
  return (nibble & 0x08) ? -magnitude : magnitude;
}

uint8_t f32_to_fp4_e2m1(float value) {
  const uint8_t sign = std::signbit(value) ? 0x08 : 0x00;
  const float magnitude = std::fabs(value);
  if (std::isnan(value)) return sign | 0x07;  // e2m1 has no NaN; saturate like the clamp would
  uint8_t best = 7;
  for (uint8_t index = 0; index < 7; ++index) {
    const float midpoint = 0.5f * (kFp4Values[index] + kFp4Values[index + 1]);
    // At a tie the even index (even mantissa bit) wins.
    if (magnitude < midpoint || (magnitude == midpoint && index % 2 == 0)) {
      best = index;
      break;
    }
  }
  return sign | best;
}

namespace {
// `magnitude` (finite, ≥ 0) rounded to `mantissa_bits` bits after the binary point, ties to
// even, and below 2^min_exponent to the fixed subnormal step 2^(min_exponent − mantissa_bits).
float round_minifloat_magnitude(float magnitude, int mantissa_bits, int min_exponent) {
  uint32_t bits = std::bit_cast<uint32_t>(magnitude);
  if (static_cast<int>(bits >> 23) - 127 >= min_exponent) {
    const int dropped = 23 - mantissa_bits;
    bits += ((1u << (dropped - 1)) - 1) + ((bits >> dropped) & 1);  // a carry moves to the exponent
    return std::bit_cast<float>(bits & ~((1u << dropped) - 1));
  }
  // Both scalings are exact; adding and taking away 2^23 rounds to an integer, ties to even.
  const float steps = magnitude * normal_power_of_two(mantissa_bits - min_exponent);
  const float rounded = (steps + 0x1p23f) - 0x1p23f;
  return rounded * normal_power_of_two(min_exponent - mantissa_bits);
}
}  // namespace

float round_to_fp8_e4m3(float value) {
  if (!std::isfinite(value)) return fp8_e4m3_to_f32(f32_to_fp8_e4m3(value));
  const float magnitude = std::fabs(value);
  if (magnitude >= 448.0f) return std::copysign(448.0f, value);
  return std::copysign(round_minifloat_magnitude(magnitude, 3, -6), value);
}

float round_to_fp4_e2m1(float value) {
  if (!std::isfinite(value)) return fp4_e2m1_to_f32(f32_to_fp4_e2m1(value));
  const float magnitude = std::fabs(value);
  if (magnitude >= 6.0f) return std::copysign(6.0f, value);
  return std::copysign(round_minifloat_magnitude(magnitude, 1, 0), value);
}

uint8_t fp8_e4m3_code(float value) {
  if (!std::isfinite(value)) return f32_to_fp8_e4m3(value);
  const float rounded = round_to_fp8_e4m3(value);
  const uint8_t sign = std::signbit(rounded) ? 0x80 : 0x00;
  const uint32_t bits = std::bit_cast<uint32_t>(std::fabs(rounded));
  const int exponent = static_cast<int>(bits >> 23) - 127;
  if (bits == 0 || exponent < -6) return sign | static_cast<uint8_t>(std::fabs(rounded) * 512.0f);  // subnormal steps
  return sign | static_cast<uint8_t>(((exponent + 7) << 3) | ((bits >> 20) & 7));
}

uint8_t fp4_e2m1_code(float value) {
  if (!std::isfinite(value)) return f32_to_fp4_e2m1(value);
  const float rounded = round_to_fp4_e2m1(value);
  const uint8_t sign = std::signbit(rounded) ? 0x08 : 0x00;
  const float magnitude = std::fabs(rounded);
  if (magnitude < 1.0f) return sign | static_cast<uint8_t>(magnitude * 2.0f);  // 0 or 0.5
  const uint32_t bits = std::bit_cast<uint32_t>(magnitude);
  return sign | static_cast<uint8_t>(2 + 2 * ((bits >> 23) - 127) + ((bits >> 22) & 1));
}

int ceil_log2(float x) {
  int exponent = 0;
  const float fraction = std::frexp(x, &exponent);  // x = fraction · 2^exponent, fraction ∈ [0.5, 1)
  return fraction == 0.5f ? exponent - 1 : exponent;
}

}  // namespace lightseek

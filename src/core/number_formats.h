// Scalar reference conversions between float32 and the element formats of V4 checkpoints
// (spec §9.1). These are the ground truth every SIMD kernel is tested against; they favour
// clarity over speed.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace lightseek {

// bfloat16: the high half of a float32.
inline float bf16_to_f32(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }
// Round to nearest, ties to even. NaN stays NaN (quiet).
uint16_t f32_to_bf16(float value);

// FP8 e4m3fn: bias 7, max ±448, subnormals 2^-9·m, codes 0x7F/0xFF are NaN, no infinities.
float fp8_e4m3_to_f32(uint8_t code);
// fp8_e4m3_to_f32 of every code, [256]: one load per element for loops over many codes.
const float* fp8_e4m3_values();
// Round to nearest, ties to even, saturating to ±448; NaN maps to 0x7F (sign kept).
uint8_t f32_to_fp8_e4m3(float value);

// E8M0 scale byte: 2^(byte-127); 0xFF is NaN.
float e8m0_to_f32(uint8_t code);

// FP4 e2m1 nibble: code = sign·8 + index into {0, 0.5, 1, 1.5, 2, 3, 4, 6}; code 8 is −0.
float fp4_e2m1_to_f32(uint8_t nibble);
// Round to nearest, ties to even (the code with an even mantissa), saturating to ±6.
uint8_t f32_to_fp4_e2m1(float value);
// Element `column` of a row of packed FP4 pairs: the low nibble holds the even column.
inline uint8_t fp4_nibble_at(const uint8_t* packed_row, int64_t column) {
  const uint8_t byte = packed_row[column >> 1];
  return (column & 1) ? static_cast<uint8_t>(byte >> 4) : static_cast<uint8_t>(byte & 0x0F);
}

// The value f32_to_fp8_e4m3 / f32_to_fp4_e2m1 round to, decoded again: fp8_e4m3_to_f32(
// f32_to_fp8_e4m3(x)), bit for bit, computed on the float's bits instead of through libm (the
// quantisation round trips of spec §9.3/§9.4 call them for every activation and KV value).
float round_to_fp8_e4m3(float value);
float round_to_fp4_e2m1(float value);
// f32_to_fp8_e4m3 / f32_to_fp4_e2m1, the same codes, computed the same way.
uint8_t fp8_e4m3_code(float value);
uint8_t fp4_e2m1_code(float value);
// 2^exponent for exponent in [-126, 127] (a normal float32, made from its bits).
inline float normal_power_of_two(int exponent) {
  return std::bit_cast<float>(static_cast<uint32_t>(exponent + 127) << 23);
}
// std::ldexp(value, exponent), the same bits: within [-126, 126] one multiplication by a normal
// power of two, which rounds once to nearest even as ldexp does, without a library call.
inline float scale_by_power_of_two(float value, int exponent) {
  return exponent >= -126 && exponent <= 126 ? value * normal_power_of_two(exponent) : std::ldexp(value, exponent);
}

// ceil(log2(x)) for finite x > 0, exact for every float32 including subnormals.
// The power-of-two ("ue8m0") block scales of spec §9.3/§9.4 are 2^ceil_log2(amax/qmax).
int ceil_log2(float x);

}  // namespace lightseek

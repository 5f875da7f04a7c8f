#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/number_formats.h"

namespace lightseek {
namespace {

TEST(NumberFormats, Fp8E4m3DecodesHandComputedCodes) {
  EXPECT_EQ(fp8_e4m3_to_f32(0x00), 0.0f);
  EXPECT_TRUE(std::signbit(fp8_e4m3_to_f32(0x80)));
  EXPECT_EQ(fp8_e4m3_to_f32(0x01), 0.001953125f);   // smallest subnormal, 2^-9
  EXPECT_EQ(fp8_e4m3_to_f32(0x07), 0.013671875f);   // largest subnormal, 7·2^-9
  EXPECT_EQ(fp8_e4m3_to_f32(0x08), 0.015625f);      // smallest normal, 2^-6
  EXPECT_EQ(fp8_e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x3C), 1.5f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x40), 2.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x77), 240.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x78), 256.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x7D), 416.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x7E), 448.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0xFE), -448.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0xB8), -1.0f);
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0x7F)));
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0xFF)));
}

TEST(NumberFormats, Fp8E4m3EncodeRoundTripsEveryCode) {
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7F) == 0x7F) continue;  // NaN
    const float value = fp8_e4m3_to_f32(static_cast<uint8_t>(code));
    EXPECT_EQ(f32_to_fp8_e4m3(value), code) << "code " << code;
  }
}

TEST(NumberFormats, Fp8E4m3TableHoldsEveryCodesValue) {
  const float* values = fp8_e4m3_values();
  for (int code = 0; code < 256; ++code) {
    const float expected = fp8_e4m3_to_f32(static_cast<uint8_t>(code));
    uint32_t got, want;
    std::memcpy(&got, &values[code], 4);
    std::memcpy(&want, &expected, 4);
    EXPECT_EQ(got, want) << "code " << code;  // bits: -0 and the NaNs included
  }
}

TEST(NumberFormats, Fp8E4m3EncodeRoundsToNearestEvenAndSaturates) {
  EXPECT_EQ(f32_to_fp8_e4m3(1.0625f), 0x38);  // halfway 1.0 | 1.125 -> even mantissa (1.0)
  EXPECT_EQ(f32_to_fp8_e4m3(1.1875f), 0x3A);  // halfway 1.125 | 1.25 -> 1.25
  EXPECT_EQ(f32_to_fp8_e4m3(1.07f), 0x39);    // nearer 1.125
  EXPECT_EQ(f32_to_fp8_e4m3(std::ldexp(1.0f, -10)), 0x00);      // halfway 0 | 2^-9 -> 0
  EXPECT_EQ(f32_to_fp8_e4m3(3 * std::ldexp(1.0f, -10)), 0x02);  // halfway 2^-9 | 2^-8 -> 2^-8
  EXPECT_EQ(f32_to_fp8_e4m3(0.015f), 0x08);   // subnormal range rounding up into the normals
  EXPECT_EQ(f32_to_fp8_e4m3(464.0f), 0x7E);
  EXPECT_EQ(f32_to_fp8_e4m3(1e9f), 0x7E);
  EXPECT_EQ(f32_to_fp8_e4m3(-1000.0f), 0xFE);
  EXPECT_EQ(f32_to_fp8_e4m3(NAN), 0x7F);
  EXPECT_EQ(f32_to_fp8_e4m3(1e-30f), 0x00);
}

TEST(NumberFormats, E8m0IsAPowerOfTwo) {
  EXPECT_EQ(e8m0_to_f32(127), 1.0f);
  EXPECT_EQ(e8m0_to_f32(130), 8.0f);
  EXPECT_EQ(e8m0_to_f32(120), 1.0f / 128.0f);
  EXPECT_EQ(e8m0_to_f32(0), std::ldexp(1.0f, -127));  // a float32 subnormal, still exact
  EXPECT_EQ(e8m0_to_f32(254), std::ldexp(1.0f, 127));
  EXPECT_TRUE(std::isnan(e8m0_to_f32(255)));
}

TEST(NumberFormats, Fp4E2m1DecodesAllCodes) {
  const float expected[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  for (int code = 0; code < 16; ++code) {
    EXPECT_EQ(fp4_e2m1_to_f32(static_cast<uint8_t>(code)), expected[code]) << code;
  }
  EXPECT_TRUE(std::signbit(fp4_e2m1_to_f32(8)));
}

TEST(NumberFormats, Fp4E2m1EncodeTiesGoToEvenCodes) {
  EXPECT_EQ(f32_to_fp4_e2m1(0.25f), 0);
  EXPECT_EQ(f32_to_fp4_e2m1(0.75f), 2);
  EXPECT_EQ(f32_to_fp4_e2m1(1.25f), 2);
  EXPECT_EQ(f32_to_fp4_e2m1(1.75f), 4);
  EXPECT_EQ(f32_to_fp4_e2m1(2.5f), 4);
  EXPECT_EQ(f32_to_fp4_e2m1(3.5f), 6);
  EXPECT_EQ(f32_to_fp4_e2m1(5.0f), 6);
  EXPECT_EQ(f32_to_fp4_e2m1(5.01f), 7);
  EXPECT_EQ(f32_to_fp4_e2m1(100.0f), 7);
  EXPECT_EQ(f32_to_fp4_e2m1(-0.3f), 9);
  EXPECT_EQ(f32_to_fp4_e2m1(-6.0f), 15);
  for (int code = 0; code < 16; ++code) {
    EXPECT_EQ(f32_to_fp4_e2m1(fp4_e2m1_to_f32(static_cast<uint8_t>(code))), code);
  }
}

TEST(NumberFormats, Fp4LowNibbleIsTheEvenColumn) {
  const uint8_t row[2] = {0x3A, 0xF1};
  EXPECT_EQ(fp4_nibble_at(row, 0), 0xA);  // -1.0
  EXPECT_EQ(fp4_nibble_at(row, 1), 0x3);  // 1.5
  EXPECT_EQ(fp4_nibble_at(row, 2), 0x1);
  EXPECT_EQ(fp4_nibble_at(row, 3), 0xF);
  EXPECT_EQ(fp4_e2m1_to_f32(fp4_nibble_at(row, 0)), -1.0f);
}

TEST(NumberFormats, Bf16ConversionsRoundToNearestEven) {
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(bf16_to_f32(0x0001), std::ldexp(1.0f, -133));
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // tie -> even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // tie -> even
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  EXPECT_EQ(f32_to_bf16(INFINITY), 0x7F80);
}

TEST(NumberFormats, CeilLog2IsExactIncludingSubnormals) {
  EXPECT_EQ(ceil_log2(1.0f), 0);
  EXPECT_EQ(ceil_log2(1.5f), 1);
  EXPECT_EQ(ceil_log2(0.75f), 0);
  EXPECT_EQ(ceil_log2(0.5f), -1);
  EXPECT_EQ(ceil_log2(448.0f), 9);
  EXPECT_EQ(ceil_log2(std::nextafter(256.0f, 1000.0f)), 9);
  EXPECT_EQ(ceil_log2(std::ldexp(1.0f, -149)), -149);
  EXPECT_EQ(ceil_log2(3 * std::ldexp(1.0f, -149)), -147);
}

// The bit-level rounding equals encode-then-decode, and the bit-level encoders the reference
// ones, for every binade (float32 subnormals included), both signs, the patterns just below, at
// and above each rounding tie of both formats, random mantissas, and the non-finite values.
TEST(NumberFormats, RoundingOnTheBitsEqualsEncodeThenDecode) {
  std::vector<uint32_t> mantissas = {0, 1, 0x7FFFFF, 0x400000, 0x3FFFFF};
  for (uint32_t step = 0; step < 8; ++step) {
    for (int delta : {-1, 0, 1}) {
      mantissas.push_back(((step << 20) | (1u << 19)) + static_cast<uint32_t>(delta));  // FP8 ties
      mantissas.push_back((((step & 1) << 22) | (1u << 21)) + static_cast<uint32_t>(delta));  // FP4 ties
      mantissas.push_back(step << 20);
    }
  }
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) mantissas.push_back(rng() & 0x7FFFFF);
  auto same = [](float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b) || (a != a && b != b); };
  for (uint32_t exponent = 0; exponent < 256; ++exponent) {
    for (uint32_t mantissa : mantissas) {
      for (uint32_t sign : {0u, 0x80000000u}) {
        const float x = std::bit_cast<float>(sign | (exponent << 23) | (mantissa & 0x7FFFFF));
        const float fp8 = fp8_e4m3_to_f32(f32_to_fp8_e4m3(x)), fp4 = fp4_e2m1_to_f32(f32_to_fp4_e2m1(x));
        ASSERT_TRUE(same(round_to_fp8_e4m3(x), fp8)) << x << ": " << round_to_fp8_e4m3(x) << " vs " << fp8;
        ASSERT_TRUE(same(round_to_fp4_e2m1(x), fp4)) << x << ": " << round_to_fp4_e2m1(x) << " vs " << fp4;
        ASSERT_EQ(fp8_e4m3_code(x), f32_to_fp8_e4m3(x)) << x;
        ASSERT_EQ(fp4_e2m1_code(x), f32_to_fp4_e2m1(x)) << x;
      }
    }
  }
}

}  // namespace
}  // namespace lightseek

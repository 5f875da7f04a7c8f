// DeepSeek's quantisation round trips (spec §9.3/§9.4): the implementation, which scales by
// powers of two and rounds on the bits, against the definition written out with ldexp and the
// element encoders, bit for bit, over block scales from the FP4 floor to near float32's top.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/number_formats.h"
#include "kernels/quantize.h"

namespace lightseek {
namespace {

template <typename Round>
void roundtrip_by_definition(float* values, int64_t count, int64_t block, float qmax, float amax_floor, Round round) {
  for (int64_t start = 0; start < count; start += block) {
    const int64_t end = std::min(count, start + block);
    float amax = 0.0f;
    for (int64_t i = start; i < end; ++i) amax = std::max(amax, std::fabs(values[i]));
    const int exponent = ceil_log2(std::max(amax, amax_floor) * (1.0f / qmax));
    for (int64_t i = start; i < end; ++i) {
      values[i] = std::ldexp(round(std::clamp(std::ldexp(values[i], -exponent), -qmax, qmax)), exponent);
    }
  }
}

std::vector<float> blocks_at_every_scale(int64_t block) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values;
  for (int scale = -150; scale <= 120; scale += 3) {
    for (int64_t i = 0; i < block; ++i) {
      // Within a block values span ~2^-20: the small ones land on subnormal steps.
      const float spread = std::ldexp(1.0f, -static_cast<int>(rng() % 20));
      values.push_back(std::ldexp(normal(rng) * spread, scale));
    }
  }
  values.insert(values.end(), static_cast<size_t>(block), 0.0f);
  values.push_back(std::numeric_limits<float>::quiet_NaN());  // a NaN inside a finite block
  values.resize(values.size() + static_cast<size_t>(block) - 1, 1.0f);
  values.push_back(std::numeric_limits<float>::infinity());  // a block whose amax is infinite
  values.resize(values.size() + static_cast<size_t>(block) - 1, 2.0f);
  values.push_back(-3.0f);  // and a partial last block
  return values;
}

void expect_same_bits(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const bool both_nan = std::isnan(got[i]) && std::isnan(want[i]);
    ASSERT_TRUE(both_nan || std::bit_cast<uint32_t>(got[i]) == std::bit_cast<uint32_t>(want[i]))
        << "value " << i << ": " << got[i] << " vs " << want[i];
  }
}

TEST(Quantize, Fp8RoundTripEqualsTheDefinitionBitForBit) {
  for (int64_t block : {64, 128}) {
    std::vector<float> values = blocks_at_every_scale(block), expected = values;
    fp8_roundtrip_blocks(values.data(), static_cast<int64_t>(values.size()), block);
    roundtrip_by_definition(expected.data(), static_cast<int64_t>(expected.size()), block, 448.0f, 1e-4f,
                            [](float x) { return fp8_e4m3_to_f32(f32_to_fp8_e4m3(x)); });
    expect_same_bits(values, expected);
  }
}

TEST(Quantize, Fp4RoundTripEqualsTheDefinitionBitForBit) {
  std::vector<float> values = blocks_at_every_scale(32), expected = values;
  fp4_roundtrip_blocks(values.data(), static_cast<int64_t>(values.size()), 32);
  roundtrip_by_definition(expected.data(), static_cast<int64_t>(expected.size()), 32, 6.0f,
                          6.0f * std::ldexp(1.0f, -126), [](float x) { return fp4_e2m1_to_f32(f32_to_fp4_e2m1(x)); });
  expect_same_bits(values, expected);
}

}  // namespace
}  // namespace lightseek

// The FP4 kernels' activations: the AVX-512 preparation straight from float32 against quantising
// to int16 and splitting (the scalar definition), element for element.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/fp4_activations.h"

namespace lightseek {
namespace {

// Blocks of 32 at magnitudes from 2^-140 (subnormal) to 2^60, an all-zero block, a block whose
// values are one large value among tiny ones, exact ties after scaling, and (with `specials`)
// infinities and a NaN.
std::vector<float> activation_rows(int64_t tokens, int64_t cols, bool specials, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-140, 60);
  std::vector<float> x(static_cast<size_t>(tokens * cols));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t b = 0; b < cols; b += 32) {
      float* block = x.data() + t * cols + b;
      const int kind = static_cast<int>((b / 32 + t) % 5);
      const float magnitude = std::ldexp(1.0f, exponent(rng));
      for (int k = 0; k < 32; ++k) block[k] = kind == 1 ? 0.0f : normal(rng) * magnitude;
      if (kind == 2) {
        for (int k = 0; k < 32; ++k) block[k] *= 1e-6f;
        block[7] = -magnitude;
      }
      if (kind == 3) {  // amax 32639·2^-10: k/2 · 2^-10 scales to k/2, halves that round to even
        block[0] = 32639.0f / 1024.0f;
        for (int k = 1; k < 32; ++k) block[k] = static_cast<float>(k - 16) * 0.5f / 1024.0f;
      }
    }
  }
  if (specials && cols >= 96) {
    x[3] = std::numeric_limits<float>::infinity();
    x[40] = -std::numeric_limits<float>::infinity();
    x[70] = std::numeric_limits<float>::quiet_NaN();
  }
  return x;
}

void expect_same_bits(const QuantizedRows& want, const QuantizedRows& got, int64_t tokens, int64_t cols) {
  const int64_t padded128 = (cols + 127) / 128 * 128;
  ASSERT_EQ(got.high.size(), static_cast<size_t>(tokens * padded128));
  ASSERT_EQ(got.lane_bias.size(), static_cast<size_t>(tokens * padded128 / 8));
  ASSERT_EQ(want.high.size(), got.high.size());
  ASSERT_EQ(want.lane_bias.size(), got.lane_bias.size());
  for (size_t i = 0; i < want.high.size(); ++i) {
    ASSERT_EQ(want.high[i], got.high[i]) << "high at " << i << ", cols " << cols;
    ASSERT_EQ(want.low[i], got.low[i]) << "low at " << i << ", cols " << cols;
  }
  for (size_t i = 0; i < want.lane_bias.size(); ++i) {
    ASSERT_EQ(want.lane_bias[i], got.lane_bias[i]) << "lane bias " << i << ", cols " << cols;
    uint32_t want_bits = 0, got_bits = 0;
    std::memcpy(&want_bits, &want.lane_scale[i], 4);
    std::memcpy(&got_bits, &got.lane_scale[i], 4);
    ASSERT_EQ(want_bits, got_bits) << "lane scale " << i << ", cols " << cols;
  }
}

TEST(Fp4Activations, Avx512PreparationMatchesQuantisingAndSplitting) {
  if (!cpu_supports(Isa::Avx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  for (bool specials : {false, true}) {
    for (int64_t tokens : {1, 3}) {
      for (int64_t cols : {32, 64, 96, 128, 160, 224, 2080, 4096, 4160}) {
        const std::vector<float> x = activation_rows(tokens, cols, specials, static_cast<uint32_t>(cols + tokens));
        QuantizedRows want, got;
        prepare_vnni_rows(Isa::Scalar, x.data(), tokens, cols, want);
        // Stale values from a larger call must not survive: every element is written.
        got.high.assign(static_cast<size_t>(tokens * 4224), 55);
        got.low.assign(got.high.size(), 55);
        got.lane_bias.assign(got.high.size() / 8, 55);
        got.lane_scale.assign(got.high.size() / 8, 55.0f);
        prepare_vnni_rows(Isa::Avx512, x.data(), tokens, cols, got);
        expect_same_bits(want, got, tokens, cols);
      }
    }
  }
}

// The split itself: every value is 256·high + low with low in [-128, 127], and the lane biases
// are −12 times the sums of the lanes' values (quantising a row whose blocks hold ±32639 and
// small integers, which the scale keeps exact).
TEST(Fp4Activations, SplitPartsAndLaneBiasesAddUpToTheValues) {
  const int64_t cols = 256;
  std::vector<float> x(cols);
  for (int64_t c = 0; c < cols; ++c) x[c] = c % 32 == 5 ? (c % 64 == 5 ? 32639.0f : -32639.0f) : float(c % 7) - 3.0f;
  for (Isa isa : {Isa::Scalar, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    QuantizedRows rows;
    prepare_vnni_rows(isa, x.data(), 1, cols, rows);
    for (int64_t group = 0; group < cols; group += 128) {
      for (int64_t lane = 0; lane < 16; ++lane) {
        // Lane l of a group: bytes 4l..4l+3 of its evens and of its odds; columns 8·l' .. 8·l'+7
        // of chunk l / 8, with l' = l % 8.
        int32_t sum = 0;
        for (int64_t k = 0; k < 4; ++k) {
          for (int64_t half = 0; half < 2; ++half) {
            const int64_t at = group + half * 64 + 4 * lane + k;
            const int32_t value = 256 * rows.high[at] + rows.low[at];
            const int64_t column = group + (lane / 8) * 64 + 8 * (lane % 8) + 2 * k + half;
            EXPECT_EQ(value, static_cast<int32_t>(x[column])) << isa_name(isa) << " column " << column;
            sum += value;
          }
        }
        EXPECT_EQ(rows.lane_bias[(group / 8) + lane], -12 * sum) << isa_name(isa) << " lane " << lane;
        EXPECT_EQ(rows.lane_scale[(group / 8) + lane], 0.5f) << isa_name(isa) << " lane " << lane;
      }
    }
  }
}

}  // namespace
}  // namespace lightseek

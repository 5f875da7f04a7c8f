// The fast kernels: every ISA variant against the scalar definition, and the scalar definition
// against the exact reference linear, on shapes with partial blocks, tails and token counts
// that exercise both the token blocks and their remainders.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/number_formats.h"
#include "core/thread_pool.h"
#include "kernels/dequantize.h"
#include "kernels/fast_linear.h"
#include "kernels/linear.h"
#include "random_values.h"
#include "tensor_views.h"

namespace lightseek {
namespace {

struct OwnedWeight {
  std::vector<uint8_t> weight_bytes, scale_bytes;
  WeightMatrix matrix;
};

// Random codes over the whole range of each format, with realistic block scales.
OwnedWeight random_weight(WeightFormat format, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> exponent(120, 130);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  OwnedWeight w;
  w.matrix.format = format;
  w.matrix.rows = rows;
  w.matrix.cols = cols;
  switch (format) {
    case WeightFormat::FP4_E2M1_BLOCK32:
      w.weight_bytes.resize(rows * cols / 2);
      for (auto& b : w.weight_bytes) b = static_cast<uint8_t>(byte(rng));
      w.scale_bytes.resize(rows * cols / 32);
      for (auto& s : w.scale_bytes) s = static_cast<uint8_t>(exponent(rng));
      w.matrix.weight = view(DType::I8, {rows, cols / 2}, w.weight_bytes);
      w.matrix.scale = view(DType::F8_E8M0, {rows, cols / 32}, w.scale_bytes);
      break;
    case WeightFormat::FP8_E4M3_BLOCK128: {
      w.weight_bytes.resize(rows * cols);
      for (auto& b : w.weight_bytes) {
        do b = static_cast<uint8_t>(byte(rng));
        while ((b & 0x7F) == 0x7F);  // no NaN codes
      }
      const int64_t scale_rows = (rows + 127) / 128, scale_cols = (cols + 127) / 128;
      w.scale_bytes.resize(scale_rows * scale_cols);
      for (auto& s : w.scale_bytes) s = static_cast<uint8_t>(exponent(rng) - 8);
      w.matrix.weight = view(DType::F8_E4M3, {rows, cols}, w.weight_bytes);
      w.matrix.scale = view(DType::F8_E8M0, {scale_rows, scale_cols}, w.scale_bytes);
      break;
    }
    case WeightFormat::BF16:
      w.weight_bytes.resize(rows * cols * 2);
      for (int64_t i = 0; i < rows * cols; ++i) {
        const uint16_t bits = f32_to_bf16(normal(rng));
        std::memcpy(w.weight_bytes.data() + i * 2, &bits, 2);
      }
      w.matrix.weight = view(DType::BF16, {rows, cols}, w.weight_bytes);
      break;
    case WeightFormat::F32:
      w.weight_bytes.resize(rows * cols * 4);
      for (int64_t i = 0; i < rows * cols; ++i) {
        const float value = normal(rng);
        std::memcpy(w.weight_bytes.data() + i * 4, &value, 4);
      }
      w.matrix.weight = view(DType::F32, {rows, cols}, w.weight_bytes);
      break;
  }
  return w;
}

std::vector<float> random_input(int64_t tokens, int64_t cols, uint32_t seed) {
  return testing::normal_floats(static_cast<size_t>(tokens * cols), seed);
}

struct Shape {
  WeightFormat format;
  int64_t rows, cols, tokens;
};

class FastLinearShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(FastLinearShapes, EveryIsaMatchesTheScalarKernelAndTheScalarKernelMatchesTheReference) {
  const Shape shape = GetParam();
  const OwnedWeight w = random_weight(shape.format, shape.rows, shape.cols, 7);
  const std::vector<float> x = random_input(shape.tokens, shape.cols, 11);
  std::vector<float> reference(shape.tokens * shape.rows), scalar(reference.size());
  linear(w.matrix, x.data(), shape.tokens, reference.data());
  fast_linear_with(Isa::Scalar, w.matrix, x.data(), shape.tokens, scalar.data());

  // Rounding an activation to int16 moves it by at most half a step (its block's amax/65534), so
  // |fast − exact| ≤ Σ|w|·amax/65534 (FP4); the float-only formats differ by summation order only.
  const bool int8 = shape.format == WeightFormat::FP4_E2M1_BLOCK32;
  for (int64_t t = 0; t < shape.tokens; ++t) {
    for (int64_t r = 0; r < shape.rows; ++r) {
      double magnitude = 0.0, bound = 0.0;
      for (int64_t c = 0; c < shape.cols; ++c) {
        const double w_value = std::fabs(weight_value(w.matrix, r, c));
        magnitude += w_value * std::fabs(x[t * shape.cols + c]);
        if (int8) {
          float amax = 0.0f;
          for (int64_t k = c / 32 * 32; k < c / 32 * 32 + 32; ++k) amax = std::max(amax, std::fabs(x[t * shape.cols + k]));
          bound += w_value * amax / 65534.0;
        }
      }
      const size_t i = static_cast<size_t>(t * shape.rows + r);
      ASSERT_NEAR(scalar[i], reference[i], bound * 1.001 + 1e-5 * magnitude + 1e-6) << "token " << t << " row " << r;
    }
  }
  // Σ|w·x| per output: float32 summation errors of the SIMD kernels are relative to it.
  std::vector<double> magnitude(reference.size());
  for (int64_t t = 0; t < shape.tokens; ++t) {
    for (int64_t r = 0; r < shape.rows; ++r) {
      double sum = 0.0;
      for (int64_t c = 0; c < shape.cols; ++c) sum += std::fabs(weight_value(w.matrix, r, c) * x[t * shape.cols + c]);
      magnitude[static_cast<size_t>(t * shape.rows + r)] = sum;
    }
  }
  for (Isa isa : supported_isas()) {
    std::vector<float> out(reference.size(), -1.0f);
    fast_linear_with(isa, w.matrix, x.data(), shape.tokens, out.data());
    // AMX (several tokens, weights other than F32) carries the activations as two bf16 parts
    // (16 significant bits: ≤ 2^-16 of each), so |amx − exact| ≤ 2^-16·Σ|w·x| + float32 sums.
    const bool bf16_activations = isa == Isa::Amx && shape.tokens >= 4 && shape.format != WeightFormat::F32;
    // FP8 on AMX, and FP8 rows of whole 128-column blocks on vdpbf16ps (AVX512-BF16, and AMX
    // with fewer tokens): the same two-part activations, and FP8 subnormal codes read as zero.
    const bool bf16_fp8 = shape.format == WeightFormat::FP8_E4M3_BLOCK128 &&
                          ((isa == Isa::Amx && shape.tokens >= 4) ||
                           ((isa == Isa::Amx || isa == Isa::Avx512Bf16) && shape.cols % 128 == 0));
    const double bf16_bound = 1.0 / 65536;
    // Several tokens on AVX2: float32 activations for FP8 and BF16, so only float32 summation
    // separates the output from the exact product (FP4 keeps the int16 activations: the scalar
    // kernel's integers, compared below like every other path).
    const bool f32_gemm = isa == Isa::Avx2 && shape.tokens >= 8 &&
                          (shape.format == WeightFormat::FP8_E4M3_BLOCK128 || shape.format == WeightFormat::BF16);
    for (size_t i = 0; i < out.size(); ++i) {
      if (bf16_fp8) {
        const int64_t t = static_cast<int64_t>(i) / shape.rows, r = static_cast<int64_t>(i) % shape.rows;
        double flushed = 0.0;
        for (int64_t c = 0; c < shape.cols; ++c) {
          if ((w.weight_bytes[r * shape.cols + c] & 0x78) == 0) {
            flushed += std::fabs(weight_value(w.matrix, r, c) * x[t * shape.cols + c]);
          }
        }
        ASSERT_NEAR(out[i], reference[i], flushed + magnitude[i] * (bf16_bound + 1e-5) + 1e-6) << "bf16 fp8 output " << i;
      } else if (f32_gemm) {
        ASSERT_NEAR(out[i], reference[i], 2e-5 * magnitude[i] + 1e-6) << "avx2 gemm output " << i;
      } else if (bf16_activations) {
        ASSERT_NEAR(out[i], reference[i], magnitude[i] * (bf16_bound + 1e-5) + 1e-6) << "amx output " << i;
      } else {
        ASSERT_NEAR(out[i], scalar[i], 2e-5 * magnitude[i] + 1e-6) << isa_name(isa) << " output " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, FastLinearShapes,
    ::testing::Values(Shape{WeightFormat::FP4_E2M1_BLOCK32, 37, 96, 1}, Shape{WeightFormat::FP4_E2M1_BLOCK32, 19, 544, 7},
                      Shape{WeightFormat::FP4_E2M1_BLOCK32, 5, 32, 5}, Shape{WeightFormat::FP4_E2M1_BLOCK32, 33, 1056, 9},
                      Shape{WeightFormat::FP4_E2M1_BLOCK32, 7, 96, 13}, Shape{WeightFormat::FP8_E4M3_BLOCK128, 9, 141, 1},
                      Shape{WeightFormat::FP4_E2M1_BLOCK32, 6, 1056, 1}, Shape{WeightFormat::FP4_E2M1_BLOCK32, 17, 544, 1},
                      Shape{WeightFormat::FP8_E4M3_BLOCK128, 131, 200, 1}, Shape{WeightFormat::FP8_E4M3_BLOCK128, 7, 13, 6},
                      Shape{WeightFormat::FP8_E4M3_BLOCK128, 130, 384, 5}, Shape{WeightFormat::FP8_E4M3_BLOCK128, 130, 384, 40},
                      Shape{WeightFormat::FP8_E4M3_BLOCK128, 130, 384, 1}, Shape{WeightFormat::FP8_E4M3_BLOCK128, 7, 256, 1}, Shape{WeightFormat::BF16, 9, 45, 1},
                      Shape{WeightFormat::BF16, 17, 130, 5}, Shape{WeightFormat::F32, 3, 7, 9},
                      Shape{WeightFormat::F32, 20, 64, 4}, Shape{WeightFormat::FP4_E2M1_BLOCK32, 40, 2048, 37},
                      Shape{WeightFormat::FP4_E2M1_BLOCK32, 17, 288, 14}, Shape{WeightFormat::FP4_E2M1_BLOCK32, 35, 608, 23},
                      Shape{WeightFormat::FP4_E2M1_BLOCK32, 16, 256, 12}, Shape{WeightFormat::FP4_E2M1_BLOCK32, 11, 448, 4},
                      Shape{WeightFormat::FP4_E2M1_BLOCK32, 9, 160, 2},
                      Shape{WeightFormat::FP4_E2M1_BLOCK32, 23, 1024, 1},
                      Shape{WeightFormat::FP8_E4M3_BLOCK128, 33, 160, 17},
                      Shape{WeightFormat::FP8_E4M3_BLOCK128, 70, 512, 1}, Shape{WeightFormat::FP8_E4M3_BLOCK128, 129, 256, 3}, Shape{WeightFormat::BF16, 40, 96, 33},
                      Shape{WeightFormat::F32, 10, 8200, 1}, Shape{WeightFormat::BF16, 9, 8256, 1},
                      // 65 blocks of FP8 scales: more than one run of the bf16 kernel's decoded scales
                      Shape{WeightFormat::FP8_E4M3_BLOCK128, 9, 8320, 1}),
    [](const ::testing::TestParamInfo<Shape>& info) {
      std::string name(weight_format_name(info.param.format));
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name + "_" + std::to_string(info.param.rows) + "x" +
             std::to_string(info.param.cols) + "_t" + std::to_string(info.param.tokens);
    });

bool cpu_has_amx() {
  const std::vector<Isa> isas = supported_isas();
  return std::ranges::find(isas, Isa::Amx) != isas.end();
}

// Σ|w·x| over row r of `w` and token t of x, and the part of it from the columns `flushed(c)`
// names (terms a kernel reads as zero).
struct TermSums {
  double magnitude = 0.0, flushed = 0.0;
};
template <typename Flushed>
TermSums term_sums(const OwnedWeight& w, const std::vector<float>& x, int64_t t, int64_t r, Flushed flushed) {
  const int64_t cols = w.matrix.cols;
  TermSums sums;
  for (int64_t c = 0; c < cols; ++c) {
    const double term = std::fabs(weight_value(w.matrix, r, c) * x[t * cols + c]);
    sums.magnitude += term;
    if (flushed(c)) sums.flushed += term;
  }
  return sums;
}

// Every scale code of `w` set to `code`, activations scaled so that the outputs stay near one:
// AMX must match the exact product within the two-part activations' rounding of the sum of
// magnitudes, plus the terms `flushed(r, c)` says AMX reads as zero.
template <typename Flushed>
void expect_amx_near_exact_with_scale(OwnedWeight& w, int code, int64_t tokens, uint32_t seed, Flushed flushed) {
  const int64_t rows = w.matrix.rows, cols = w.matrix.cols;
  for (auto& s : w.scale_bytes) s = static_cast<uint8_t>(code);
  std::vector<float> x = random_input(tokens, cols, seed);
  const float shift = std::ldexp(1.0f, std::clamp(127 - code, -60, 60));
  for (float& v : x) v *= shift;
  std::vector<float> reference(tokens * rows), amx(reference.size());
  linear(w.matrix, x.data(), tokens, reference.data());
  fast_linear_with(Isa::Amx, w.matrix, x.data(), tokens, amx.data());
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      const TermSums sums = term_sums(w, x, t, r, [&](int64_t c) { return flushed(r, c); });
      const size_t i = static_cast<size_t>(t * rows + r);
      ASSERT_NEAR(amx[i], reference[i], sums.flushed + sums.magnitude * (1.0 / 65536 + 1e-5))
          << "code " << code << " token " << t << " row " << r;
    }
  }
}

// FP4 scales are applied to bf16 weights by adding to the exponent field, which is exact only
// while every scaled value stays a normal number: scale codes from 2 to 252. Checked at the
// ends of that range with one token block and with two.
TEST(FastLinear, AmxFp4ScalesAtTheEndsOfTheExponentRange) {
  if (!cpu_has_amx()) GTEST_SKIP() << "no AMX on this CPU";
  for (int code : {2, 3, 126, 251, 252}) {
    for (int64_t tokens : {6, 21}) {
      OwnedWeight w = random_weight(WeightFormat::FP4_E2M1_BLOCK32, 35, 160, static_cast<uint32_t>(code));
      expect_amx_near_exact_with_scale(w, code, tokens, static_cast<uint32_t>(code + tokens),
                                       [](int64_t, int64_t) { return false; });
    }
  }
}

// FP8 on AMX: scale codes 7..239 are added to the exponent field of the codes moved into bf16
// position (subnormal codes become zero); larger codes go through IEEE half.
TEST(FastLinear, AmxFp8ScalesInsideAndOutsideTheExponentAddRange) {
  if (!cpu_has_amx()) GTEST_SKIP() << "no AMX on this CPU";
  for (int code : {7, 8, 120, 238, 239, 240, 245}) {
    OwnedWeight w = random_weight(WeightFormat::FP8_E4M3_BLOCK128, 40, 256, static_cast<uint32_t>(code));
    const bool flushes = code >= 7 && code <= 239;
    expect_amx_near_exact_with_scale(w, code, 9, static_cast<uint32_t>(code + 1), [&](int64_t r, int64_t c) {
      return flushes && (w.weight_bytes[r * 256 + c] & 0x78) == 0;
    });
  }
}

// The scalar FP4 kernel is the definition the SIMD paths are held to: activations rounded to
// int16 (to nearest, ties to even) in blocks of 32 with scale amax/32639, exact integer block
// sums. Recomputed here independently, bit for bit, on a block whose amax makes the scale 1 so
// that several values are exact ties.
TEST(FastLinear, ScalarFp4IsTheInt16DefinitionBitForBit) {
  const int64_t rows = 5, cols = 96, tokens = 2;
  const OwnedWeight w = random_weight(WeightFormat::FP4_E2M1_BLOCK32, rows, cols, 23);
  std::vector<float> x = random_input(tokens, cols, 29);
  const float ties[] = {32639.0f, 2.5f, -2.5f, 3.5f, -0.5f, 0.5f, 1.5f, -7.5f, 100.25f, -100.75f};
  for (size_t i = 0; i < std::size(ties); ++i) x[32 + i] = ties[i];  // token 0, block 1
  for (int64_t c = 32 + static_cast<int64_t>(std::size(ties)); c < 64; ++c) x[c] = 0.0f;
  std::vector<float> out(tokens * rows);
  fast_linear_with(Isa::Scalar, w.matrix, x.data(), tokens, out.data());

  const int doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      float sum = 0.0f;
      for (int64_t b = 0; b < cols / 32; ++b) {
        float amax = 0.0f;
        for (int64_t c = b * 32; c < b * 32 + 32; ++c) amax = std::max(amax, std::fabs(x[t * cols + c]));
        const float inverse = amax > 0.0f ? 32639.0f / amax : 0.0f;
        int32_t dot = 0;
        for (int64_t c = b * 32; c < b * 32 + 32; ++c) {
          const uint8_t byte = w.weight_bytes[static_cast<size_t>(r * cols / 2 + c / 2)];
          const int code = c % 2 == 0 ? byte & 0x0F : byte >> 4;
          dot += doubled[code] * static_cast<int32_t>(std::nearbyint(x[t * cols + c] * inverse));
        }
        const float weight_scale = std::ldexp(1.0f, w.scale_bytes[static_cast<size_t>(r * cols / 32 + b)] - 127);
        sum += weight_scale * (amax / 32639.0f * 0.5f) * static_cast<float>(dot);
      }
      ASSERT_EQ(out[static_cast<size_t>(t * rows + r)], sum) << "token " << t << " row " << r;
    }
  }
}

// FP8 codes with exponent 0 are subnormal: the AVX2 matrix-vector kernel turns them into float32
// subnormals, which only multiply exactly against its 2^64-scaled activations. With every weight
// subnormal (or zero) and large and small activations, each ISA's matrix-vector kernel must still
// match the exact product (AMX's bf16 kernel reads these codes as zero and is left out).
TEST(FastLinear, Fp8SubnormalCodesCountInTheMatrixVectorKernels) {
  const int64_t rows = 9, cols = 200;
  OwnedWeight w = random_weight(WeightFormat::FP8_E4M3_BLOCK128, rows, cols, 31);
  for (auto& b : w.weight_bytes) b &= 0x87;  // sign and mantissa only
  for (float scale : {1.0f, 1e6f, 1e-6f}) {
    std::vector<float> x = random_input(1, cols, 37);
    for (float& v : x) v *= scale;
    std::vector<float> reference(rows);
    linear(w.matrix, x.data(), 1, reference.data());
    for (Isa isa : supported_isas()) {
      if (isa == Isa::Amx) continue;
      std::vector<float> out(rows, -1.0f);
      fast_linear_with(isa, w.matrix, x.data(), 1, out.data());
      for (int64_t r = 0; r < rows; ++r) {
        double magnitude = 0.0;
        for (int64_t c = 0; c < cols; ++c) magnitude += std::fabs(weight_value(w.matrix, r, c) * x[c]);
        ASSERT_GT(magnitude, 0.0);
        ASSERT_NEAR(out[r], reference[r], 2e-5 * magnitude) << isa_name(isa) << " scale " << scale << " row " << r;
      }
    }
  }
}

// Large and small FP8 block scales with activations scaled the other way, so that the exact
// outputs stay moderate: the matrix-vector kernels must neither overflow nor lose the sums
// (AVX2's float32 codes and AVX512-BF16's bf16 codes are 2^-120 of their values; both scale the
// activations per call and correct in two steps for this).
TEST(FastLinear, Fp8MatrixVectorKeepsExtremeBlockScales) {
  const int64_t rows = 6, cols = 256;
  for (int code : {30, 60, 200, 230}) {
    OwnedWeight w = random_weight(WeightFormat::FP8_E4M3_BLOCK128, rows, cols, static_cast<uint32_t>(code));
    for (auto& s : w.scale_bytes) s = static_cast<uint8_t>(code);
    // One token, and five: AVX512-BF16's block of 4 rows × 4 tokens and its single rows and tokens.
    for (int64_t tokens : {1, 5}) {
      std::vector<float> x = random_input(tokens, cols, 41);
      for (float& v : x) v = std::ldexp(v, 127 - code);
      std::vector<float> reference(tokens * rows);
      linear(w.matrix, x.data(), tokens, reference.data());
      for (Isa isa : supported_isas()) {
        if (isa == Isa::Amx && tokens > 1) continue;  // tiles: held to these scales by their own test
        // vdpbf16ps: two-part bf16 activations (2^-16 of each), FP8 subnormal codes read as zero.
        const bool bf16 = isa == Isa::Amx || isa == Isa::Avx512Bf16;
        std::vector<float> out(reference.size(), -1.0f);
        fast_linear_with(isa, w.matrix, x.data(), tokens, out.data());
        for (int64_t t = 0; t < tokens; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            const TermSums sums = term_sums(w, x, t, r, [&](int64_t c) {
              return bf16 && (w.weight_bytes[r * cols + c] & 0x78) == 0;
            });
            ASSERT_TRUE(std::isfinite(sums.magnitude));
            const size_t i = static_cast<size_t>(t * rows + r);
            ASSERT_NEAR(out[i], reference[i], sums.flushed + sums.magnitude * (bf16 ? 1.0 / 65536 + 1e-5 : 2e-5))
                << isa_name(isa) << " scale code " << code << " token " << t << " row " << r;
          }
        }
      }
    }
  }
}

TEST(FastLinear, ThreadedRowSplitsGiveTheSameBitsAsOneThread) {
  const OwnedWeight w = random_weight(WeightFormat::FP4_E2M1_BLOCK32, 301, 256, 3);
  const std::vector<float> x = random_input(3, 256, 5);
  std::vector<float> single(3 * 301), threaded(3 * 301);
  ThreadPool one(1), three(3);
  fast_linear(w.matrix, x.data(), 3, single.data(), &one);
  fast_linear(w.matrix, x.data(), 3, threaded.data(), &three);
  EXPECT_EQ(single, threaded);
}

// One-token products read several rows at once (from several parts of the range) and the rows
// left over one at a time: a row's result must not depend on which way it went, or the logits
// would change with the thread count. FP4 at 1024 columns takes the whole-512-column-group loop,
// at 544 the general one.
TEST(FastLinear, OneTokenRowsGiveTheSameBitsAloneAndInGroups) {
  const struct {
    WeightFormat format;
    int64_t cols;
  } cases[] = {{WeightFormat::FP4_E2M1_BLOCK32, 1024},
               {WeightFormat::FP4_E2M1_BLOCK32, 544},
               {WeightFormat::FP8_E4M3_BLOCK128, 512},
               {WeightFormat::FP8_E4M3_BLOCK128, 200},
               {WeightFormat::BF16, 130},
               {WeightFormat::BF16, 8200},  // rows this long go 4 at a time
               {WeightFormat::F32, 16400}};
  ThreadPool one(1);
  for (const auto& c : cases) {
    const OwnedWeight w = random_weight(c.format, 23, c.cols, 17);
    const std::vector<float> x = random_input(1, c.cols, 19);
    std::vector<float> all(23);
    fast_linear(w.matrix, x.data(), 1, all.data(), &one);
    for (int64_t r = 0; r < 23; ++r) {
      float alone = 0.0f;
      fast_linear_rows(w.matrix, r, 1, x.data(), 1, &alone, &one);
      EXPECT_EQ(alone, all[static_cast<size_t>(r)]) << weight_format_name(c.format) << " " << c.cols << " row " << r;
    }
  }
}

TEST(FastLinear, RowRangesWriteOnlyTheirRows) {
  const OwnedWeight w = random_weight(WeightFormat::FP8_E4M3_BLOCK128, 300, 128, 9);
  // Matrix-vector kernels; AMX with one and two token blocks and with whole panels. Rows from
  // 100 on make AMX panels that straddle the 128-row scale blocks.
  for (int64_t tokens : {2, 6, 21, 40}) {
    const std::vector<float> x = random_input(tokens, 128, 1);
    std::vector<float> all(tokens * 300), part(tokens * 100 + 1, -7.0f);
    fast_linear(w.matrix, x.data(), tokens, all.data());
    fast_linear_rows(w.matrix, 100, 100, x.data(), tokens, part.data());
    for (int64_t t = 0; t < tokens; ++t) {
      for (int r = 0; r < 100; ++r) EXPECT_EQ(part[t * 100 + r], all[t * 300 + 100 + r]) << "tokens " << tokens;
    }
    EXPECT_EQ(part.back(), -7.0f) << "wrote past the last row, tokens " << tokens;
  }
}

TEST(FastLinear, RejectsRowRangesOutsideTheWeight) {
  const OwnedWeight w = random_weight(WeightFormat::F32, 4, 8, 1);
  std::vector<float> x(8), y(8);
  EXPECT_THROW(fast_linear_rows(w.matrix, 2, 3, x.data(), 1, y.data()), Error);
}

}  // namespace
}  // namespace lightseek

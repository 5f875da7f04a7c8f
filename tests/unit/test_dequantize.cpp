#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/number_formats.h"
#include "kernels/dequantize.h"
#include "kernels/linear.h"
#include "random_values.h"
#include "tensor_views.h"

namespace lightseek {
namespace {

TEST(Dequantize, Fp8Block128UsesTheScaleOfEachBlockIncludingPartialBlocks) {
  // 130 × 3: two block rows (the second holds rows 128 and 129) and one partial block column.
  const int64_t rows = 130, cols = 3;
  std::vector<uint8_t> codes(rows * cols, 0x38);  // 1.0
  codes[0 * cols + 2] = 0xBC;                     // -1.5
  codes[129 * cols + 1] = 0x01;                   // 2^-9
  std::vector<uint8_t> scales = {128, 125};       // 2^1 for rows 0..127, 2^-2 for 128..129
  WeightMatrix matrix{WeightFormat::FP8_E4M3_BLOCK128, rows, cols, view(DType::F8_E4M3, {rows, cols}, codes),
                      view(DType::F8_E8M0, {2, 1}, scales)};
  EXPECT_EQ(weight_value(matrix, 0, 0), 2.0f);
  EXPECT_EQ(weight_value(matrix, 0, 2), -3.0f);
  EXPECT_EQ(weight_value(matrix, 127, 1), 2.0f);
  EXPECT_EQ(weight_value(matrix, 128, 0), 0.25f);
  EXPECT_EQ(weight_value(matrix, 129, 1), std::ldexp(1.0f, -11));
  std::vector<float> out(2 * cols);
  dequantize_rows(matrix, 128, 2, out.data());
  EXPECT_EQ(out[0], 0.25f);
  EXPECT_EQ(out[4], std::ldexp(1.0f, -11));
}

TEST(Dequantize, Fp4Block32PacksTheEvenColumnInTheLowNibble) {
  // One row of 64 columns: two 32-wide scale blocks.
  const int64_t rows = 1, cols = 64;
  std::vector<uint8_t> packed(cols / 2, 0x00);
  packed[0] = 0x7A;   // col 0: code 0xA = -1.0, col 1: code 0x7 = 6.0
  packed[16] = 0x92;  // col 32: code 0x2 = 1.0, col 33: code 0x9 = -0.5
  std::vector<uint8_t> scales = {126, 129};  // 2^-1, 2^2
  WeightMatrix matrix{WeightFormat::FP4_E2M1_BLOCK32, rows, cols, view(DType::I8, {rows, cols / 2}, packed),
                      view(DType::F8_E8M0, {rows, 2}, scales)};
  EXPECT_EQ(weight_value(matrix, 0, 0), -0.5f);
  EXPECT_EQ(weight_value(matrix, 0, 1), 3.0f);
  EXPECT_EQ(weight_value(matrix, 0, 2), 0.0f);
  EXPECT_EQ(weight_value(matrix, 0, 32), 4.0f);
  EXPECT_EQ(weight_value(matrix, 0, 33), -2.0f);
}

TEST(Dequantize, Bf16AndF32AreReadAsStored) {
  std::vector<uint8_t> bf16_bytes(4);
  const uint16_t values[2] = {0x3F80, 0xC040};  // 1.0, -3.0
  std::memcpy(bf16_bytes.data(), values, 4);
  WeightMatrix bf16{WeightFormat::BF16, 1, 2, view(DType::BF16, {1, 2}, bf16_bytes), {}};
  EXPECT_EQ(weight_value(bf16, 0, 0), 1.0f);
  EXPECT_EQ(weight_value(bf16, 0, 1), -3.0f);

  std::vector<uint8_t> f32_bytes(8);
  const float floats[2] = {0.1f, -7.25f};
  std::memcpy(f32_bytes.data(), floats, 8);
  WeightMatrix f32{WeightFormat::F32, 2, 1, view(DType::F32, {2, 1}, f32_bytes), {}};
  EXPECT_EQ(weight_value(f32, 0, 0), 0.1f);
  EXPECT_EQ(weight_value(f32, 1, 0), -7.25f);
  float out[2];
  tensor_to_f32(view(DType::BF16, {2}, bf16_bytes), out);
  EXPECT_EQ(out[1], -3.0f);
}

// Random bytes as codes and scales: every FP8 code (NaN among them) and a wide range of E8M0
// scales, in shapes with partial 128-blocks. Compared bit for bit, so NaN must match NaN.
void expect_rows_match_element_values(const WeightMatrix& matrix) {
  std::vector<float> out(static_cast<size_t>(matrix.rows * matrix.cols));
  dequantize_rows(matrix, 0, matrix.rows, out.data());
  for (int64_t r = 0; r < matrix.rows; ++r) {
    for (int64_t c = 0; c < matrix.cols; ++c) {
      ASSERT_EQ(std::bit_cast<uint32_t>(out[r * matrix.cols + c]), std::bit_cast<uint32_t>(weight_value(matrix, r, c)))
          << "row " << r << " col " << c;
    }
  }
}

std::vector<uint8_t> random_bytes(size_t count, uint32_t seed, int low = 0, int high = 255) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int> byte(low, high);
  std::vector<uint8_t> bytes(count);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(byte(generator));
  return bytes;
}

TEST(Dequantize, RowsEqualTheElementDefinitionInEveryFormat) {
  const int64_t rows = 131, cols = 320;
  const auto fp8_codes = random_bytes(rows * cols, 1);
  const auto fp8_scales = random_bytes(2 * 3, 2, 100, 154);
  expect_rows_match_element_values({WeightFormat::FP8_E4M3_BLOCK128, rows, cols,
                                    view(DType::F8_E4M3, {rows, cols}, fp8_codes),
                                    view(DType::F8_E8M0, {2, 3}, fp8_scales)});
  const auto fp4_codes = random_bytes(rows * cols / 2, 3);
  const auto fp4_scales = random_bytes(rows * cols / 32, 4, 100, 154);
  expect_rows_match_element_values({WeightFormat::FP4_E2M1_BLOCK32, rows, cols,
                                    view(DType::I8, {rows, cols / 2}, fp4_codes),
                                    view(DType::F8_E8M0, {rows, cols / 32}, fp4_scales)});
  const auto bf16 = random_bytes(rows * cols * 2, 5);
  expect_rows_match_element_values({WeightFormat::BF16, rows, cols, view(DType::BF16, {rows, cols}, bf16), {}});
  const auto f32 = random_bytes(rows * cols * 4, 6);
  expect_rows_match_element_values({WeightFormat::F32, rows, cols, view(DType::F32, {rows, cols}, f32), {}});
}

// The bf16 product reads rows in place; the F32 product goes through the dequantised tile. Given
// the same values they must give the same bits (the same double sums in the same order).
TEST(Linear, Bf16RowsReadInPlaceEqualTheSameValuesStoredAsF32) {
  const int64_t rows = 37, cols = 200, tokens = 3;
  std::vector<uint8_t> bf16(rows * cols * 2), f32(rows * cols * 4);
  const std::vector<float> weights = testing::normal_floats(rows * cols, 7);
  for (int64_t i = 0; i < rows * cols; ++i) {
    const uint16_t bits = f32_to_bf16(weights[i]);
    std::memcpy(bf16.data() + i * 2, &bits, 2);
    const float value = bf16_to_f32(bits);
    std::memcpy(f32.data() + i * 4, &value, 4);
  }
  const std::vector<float> x = testing::normal_floats(tokens * cols, 8);
  const WeightMatrix as_bf16{WeightFormat::BF16, rows, cols, view(DType::BF16, {rows, cols}, bf16), {}};
  const WeightMatrix as_f32{WeightFormat::F32, rows, cols, view(DType::F32, {rows, cols}, f32), {}};
  for (const bool quantize : {false, true}) {
    std::vector<float> from_bf16(tokens * rows), from_f32(tokens * rows);
    linear(as_bf16, x.data(), tokens, from_bf16.data(), {.quantize_activations = quantize});
    linear(as_f32, x.data(), tokens, from_f32.data(), {.quantize_activations = quantize});
    for (size_t i = 0; i < from_f32.size(); ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(from_bf16[i]), std::bit_cast<uint32_t>(from_f32[i])) << i;
    }
  }
  // Rows [5, 30) alone: the in-place path must read the rows it was given.
  std::vector<float> part(tokens * 25), whole(tokens * rows);
  linear_rows(as_bf16, 5, 25, x.data(), tokens, part.data(), {});
  linear(as_f32, x.data(), tokens, whole.data());
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t r = 0; r < 25; ++r) ASSERT_EQ(part[t * 25 + r], whole[t * rows + 5 + r]) << t << " " << r;
  }
}

}  // namespace
}  // namespace lightseek

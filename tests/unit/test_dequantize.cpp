#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/number_formats.h"
#include "kernels/dequantize.h"
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

}  // namespace
}  // namespace lightseek

#include "kernels/dequantize.h"

#include <cstring>

#include "core/error.h"
#include "core/number_formats.h"

namespace lightseek {
namespace {

float load_f32(const uint8_t* base, int64_t index) {
  float value;
  std::memcpy(&value, base + index * 4, 4);
  return value;
}

float load_bf16(const uint8_t* base, int64_t index) {
  uint16_t bits;
  std::memcpy(&bits, base + index * 2, 2);
  return bf16_to_f32(bits);
}

}  // namespace

float weight_value(const WeightMatrix& weight, int64_t row, int64_t col) {
  const uint8_t* data = weight.weight.data;
  switch (weight.format) {
    case WeightFormat::F32:
      return load_f32(data, row * weight.cols + col);
    case WeightFormat::BF16:
      return load_bf16(data, row * weight.cols + col);
    case WeightFormat::FP8_E4M3_BLOCK128: {
      const int64_t scale_cols = (weight.cols + 127) / 128;
      const uint8_t scale = weight.scale.data[(row / 128) * scale_cols + col / 128];
      return fp8_e4m3_to_f32(data[row * weight.cols + col]) * e8m0_to_f32(scale);
    }
    case WeightFormat::FP4_E2M1_BLOCK32: {
      const uint8_t* packed_row = data + row * (weight.cols / 2);
      const uint8_t scale = weight.scale.data[row * (weight.cols / 32) + col / 32];
      return fp4_e2m1_to_f32(fp4_nibble_at(packed_row, col)) * e8m0_to_f32(scale);
    }
  }
  return 0.0f;
}

namespace {

// Every code's value, from the reference conversions above, so a row costs one lookup per
// element instead of a format switch and a conversion call (this path is what the exact
// numerics and every test of them run on).
struct CodeTables {
  const float* fp8 = fp8_e4m3_values();
  float e8m0[256];
  float fp4[16];
  CodeTables() {
    for (int code = 0; code < 256; ++code) e8m0[code] = e8m0_to_f32(static_cast<uint8_t>(code));
    for (int code = 0; code < 16; ++code) fp4[code] = fp4_e2m1_to_f32(static_cast<uint8_t>(code));
  }
};

const CodeTables& code_tables() {
  static const CodeTables tables;
  return tables;
}

}  // namespace

void dequantize_rows(const WeightMatrix& weight, int64_t row_begin, int64_t row_count, float* out) {
  const int64_t cols = weight.cols;
  const uint8_t* data = weight.weight.data;
  const CodeTables& tables = code_tables();
  for (int64_t r = 0; r < row_count; ++r) {
    const int64_t row = row_begin + r;
    float* dst = out + r * cols;
    switch (weight.format) {
      case WeightFormat::F32:
        std::memcpy(dst, data + row * cols * 4, static_cast<size_t>(cols) * 4);
        break;
      case WeightFormat::BF16:
        for (int64_t c = 0; c < cols; ++c) dst[c] = load_bf16(data, row * cols + c);
        break;
      case WeightFormat::FP8_E4M3_BLOCK128: {
        const int64_t scale_cols = (cols + 127) / 128;
        const uint8_t* scales = weight.scale.data + (row / 128) * scale_cols;
        const uint8_t* codes = data + row * cols;
        for (int64_t c = 0; c < cols; ++c) dst[c] = tables.fp8[codes[c]] * tables.e8m0[scales[c / 128]];
        break;
      }
      case WeightFormat::FP4_E2M1_BLOCK32: {
        const uint8_t* packed_row = data + row * (cols / 2);
        const uint8_t* scales = weight.scale.data + row * (cols / 32);
        for (int64_t c = 0; c < cols; ++c) {
          dst[c] = tables.fp4[fp4_nibble_at(packed_row, c)] * tables.e8m0[scales[c / 32]];
        }
        break;
      }
    }
  }
}

void tensor_to_f32(const TensorView& tensor, float* out) {
  const int64_t count = tensor.numel();
  switch (tensor.dtype) {
    case DType::F32:
      std::memcpy(out, tensor.data, static_cast<size_t>(count) * 4);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < count; ++i) out[i] = load_bf16(tensor.data, i);
      return;
    default:
      fail(tensor.name, ": expected F32 or BF16, found ", dtype_name(tensor.dtype));
  }
}

}  // namespace lightseek

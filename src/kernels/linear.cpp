#include "kernels/linear.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/number_formats.h"
#include "kernels/dequantize.h"
#include "kernels/quantize.h"

namespace lightseek {

void linear_rows(const WeightMatrix& weight, int64_t row_begin, int64_t row_count, const float* x, int64_t tokens,
                 float* y, const LinearOptions& options) {
  const int64_t cols = weight.cols;
  std::vector<float> quantized;
  if (options.quantize_activations) {
    quantized.assign(x, x + tokens * cols);
    for (int64_t t = 0; t < tokens; ++t) fp8_roundtrip_blocks(quantized.data() + t * cols, cols, 128);
    x = quantized.data();
  }
  if (weight.format == WeightFormat::BF16) {
    // Widening bfloat16 is a shift, so the rows are read in place: a tile would double the
    // memory traffic of the output head, the largest matrix the exact numerics run.
    for (int64_t r = 0; r < row_count; ++r) {
      const uint8_t* w = weight.weight.data + (row_begin + r) * cols * 2;
      for (int64_t t = 0; t < tokens; ++t) {
        const float* xt = x + t * cols;
        double sum = 0.0;
        for (int64_t c = 0; c < cols; ++c) {
          uint16_t bits;
          std::memcpy(&bits, w + c * 2, 2);
          sum += static_cast<double>(xt[c]) * bf16_to_f32(bits);
        }
        y[t * row_count + r] = static_cast<float>(sum);
      }
    }
    return;
  }
  // Dequantise a tile of weight rows once and use it for every token.
  constexpr int64_t kTileRows = 16;
  std::vector<float> tile(static_cast<size_t>(kTileRows * cols));
  for (int64_t r0 = 0; r0 < row_count; r0 += kTileRows) {
    const int64_t rows = std::min(kTileRows, row_count - r0);
    dequantize_rows(weight, row_begin + r0, rows, tile.data());
    for (int64_t t = 0; t < tokens; ++t) {
      const float* xt = x + t * cols;
      for (int64_t r = 0; r < rows; ++r) {
        const float* w = tile.data() + r * cols;
        double sum = 0.0;
        for (int64_t c = 0; c < cols; ++c) sum += static_cast<double>(xt[c]) * w[c];
        y[t * row_count + r0 + r] = static_cast<float>(sum);
      }
    }
  }
}

void linear(const WeightMatrix& weight, const float* x, int64_t tokens, float* y, const LinearOptions& options) {
  linear_rows(weight, 0, weight.rows, x, tokens, y, options);
}

}  // namespace lightseek

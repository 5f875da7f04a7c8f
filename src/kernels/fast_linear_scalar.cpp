// The scalar definition of the fast kernels' arithmetic, and the fallback on CPUs without AVX2.
#include <algorithm>
#include <cstring>

#include "core/number_formats.h"
#include "kernels/fast_linear_kernels.h"

namespace lightseek::fast_kernels {
namespace {

void fp4_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
              int64_t y_stride) {
  const int64_t cols = w.cols, blocks = cols / 32;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* packed = w.weight.data + r * (cols / 2);
    const uint8_t* scales = w.scale.data + r * blocks;
    for (int64_t t = 0; t < x.tokens; ++t) {
      const int16_t* q = x.q + t * x.padded_cols;
      const float* q_scale = x.q_scale + t * (x.padded_cols / 4);
      float sum = 0.0f;
      for (int64_t b = 0; b < blocks; ++b) {
        int32_t dot = 0;
        for (int64_t c = b * 32; c < b * 32 + 32; ++c) dot += kFp4DoubledCodes[fp4_nibble_at(packed, c)] * q[q_position(c)];
        sum += fast_e8m0(scales[b]) * q_scale[b * 8] * static_cast<float>(dot);
      }
      y[t * y_stride + (r - row_begin)] = sum;
    }
  }
}

void fp8_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
              int64_t y_stride) {
  const int64_t cols = w.cols, scale_cols = (cols + 127) / 128;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* codes = w.weight.data + r * cols;
    const uint8_t* scales = w.scale.data + (r / 128) * scale_cols;
    for (int64_t t = 0; t < x.tokens; ++t) {
      const float* xt = x.f32 + t * cols;
      float sum = 0.0f;
      for (int64_t b = 0; b < scale_cols; ++b) {
        float block = 0.0f;
        for (int64_t c = b * 128; c < std::min(cols, b * 128 + 128); ++c) block += fp8_e4m3_to_f32(codes[c]) * xt[c];
        sum += fast_e8m0(scales[b]) * block;
      }
      y[t * y_stride + (r - row_begin)] = sum;
    }
  }
}


template <bool kBf16>
void float_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
                int64_t y_stride) {
  const int64_t cols = w.cols;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.weight.data + r * cols * (kBf16 ? 2 : 4);
    for (int64_t t = 0; t < x.tokens; ++t) {
      const float* xt = x.f32 + t * cols;
      float sum = 0.0f;
      for (int64_t c = 0; c < cols; ++c) sum += stored_value<kBf16>(row, c) * xt[c];
      y[t * y_stride + (r - row_begin)] = sum;
    }
  }
}

}  // namespace

const KernelTable& scalar_kernels() {
  static const KernelTable table = {fp4_rows, fp8_rows, float_rows<true>, float_rows<false>};
  return table;
}

}  // namespace lightseek::fast_kernels

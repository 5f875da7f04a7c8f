// Several tokens on AVX2 + FMA (CPUs without AMX), FP8 and BF16 weights (FP4 has its own integer
// kernel, fast_gemm_fp4_avx2.cpp): the weights of 16 rows are dequantised once to float32, packed
// column by column (16 rows per column, 256 columns per panel), and every token is multiplied
// against the panel by an outer-product FMA kernel, as BLAS libraries do. Activations stay
// float32, so each output differs from the exact product only by float32 summation.
//
// Why this shape: the matrix-vector kernels decode each weight again for every block of 4
// tokens and keep one FMA chain per token (prefill at 14–30 GFLOP/s of the machine's ~90). A
// first version here multiplied 3 unpacked rows by 4 tokens as dot products (12 chains from 7
// loads, a horizontal sum per pass): 39–52 GFLOP/s. The packed panel needs no horizontal sums
// and 8 loads per 12 FMAs, most of them broadcasts: 61–70 GFLOP/s at 256 tokens.
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/number_formats.h"
#include "kernels/avx2_conversions.h"

namespace lightseek::fast_kernels {
namespace {

// The 2^-8 of the IEEE-half decoding is folded into the block scale.
void dequantize_fp8_row(const uint8_t* codes, const uint8_t* scales, int64_t cols, float* out) {
  for (int64_t b = 0; b < cols; b += 128) {
    const int64_t end = min_index(cols, b + 128);
    const float scale = fast_e8m0(scales[b / 128]);
    const __m256 half_scale = _mm256_set1_ps(scale * kFp8HalfCorrection);
    int64_t c = b;
    for (; c + 8 <= end; c += 8) _mm256_store_ps(out + c, _mm256_mul_ps(fp8x8_to_scaled_f32(codes + c), half_scale));
    for (; c < end; ++c) out[c] = fp8_e4m3_to_f32(codes[c]) * scale;
  }
}

void dequantize_bf16_row(const uint8_t* row, int64_t cols, float* out) {
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) _mm256_store_ps(out + c, bf16x8_to_f32(row + c * 2));
  for (; c < cols; ++c) out[c] = stored_value<true>(row, c);
}

void dequantize_row(const WeightMatrix& w, int64_t r, float* out) {
  const int64_t cols = w.cols;
  switch (w.format) {
    case WeightFormat::FP4_E2M1_BLOCK32:  // never passed here: FP4 goes to avx2_fp4_gemm_kernel
      std::memset(out, 0, static_cast<size_t>(cols) * 4);
      return;
    case WeightFormat::FP8_E4M3_BLOCK128:
      dequantize_fp8_row(w.weight.data + r * cols, w.scale.data + (r / 128) * ((cols + 127) / 128), cols, out);
      return;
    case WeightFormat::BF16: dequantize_bf16_row(w.weight.data + r * cols * 2, cols, out); return;
    case WeightFormat::F32: std::memcpy(out, w.weight.data + r * cols * 4, static_cast<size_t>(cols) * 4); return;
  }
}

// 16 rows (two vectors) × 6 tokens = 12 accumulators, plus two weight vectors and a broadcast:
// 15 of the 16 registers. Each step of one column: 2 loads, 6 broadcasts, 12 FMAs.
constexpr int kPackRows = 16;
constexpr int kPackTokens = 6;
// Columns per packed panel: 16 KiB of weights in L1 while every token block passes over it.
constexpr int64_t kPackColumns = 256;

// sums[t][0..16) += Σ_k packed[k][0..16) · x[t][k] for T tokens over `length` columns.
template <int T>
void packed_times_tokens(const float* packed, const float* x, int64_t x_stride, int64_t length, float* acc_out) {
  __m256 acc[T][2];
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < length; ++k) {
    const __m256 w0 = _mm256_load_ps(packed + k * 16), w1 = _mm256_load_ps(packed + k * 16 + 8);
    for (int t = 0; t < T; ++t) {
      const __m256 xb = _mm256_broadcast_ss(x + t * x_stride + k);
      acc[t][0] = _mm256_fmadd_ps(w0, xb, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(w1, xb, acc[t][1]);
    }
  }
  for (int t = 0; t < T; ++t) {
    _mm256_store_ps(acc_out + t * 16, _mm256_add_ps(_mm256_load_ps(acc_out + t * 16), acc[t][0]));
    _mm256_store_ps(acc_out + t * 16 + 8, _mm256_add_ps(_mm256_load_ps(acc_out + t * 16 + 8), acc[t][1]));
  }
}

void gemm_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
               int64_t y_stride) {
  const int64_t cols = w.cols;
  const int64_t stride = (cols + 7) / 8 * 8 + 8;  // room to read 8 past the end in a transpose
  // The caller's scratch (avx2_gemm_scratch_floats), each part 64-byte aligned for aligned loads.
  float* rows = align_to_64(x.scratch);
  float* packed = align_to_64(rows + kPackRows * stride);
  float* sums = align_to_64(packed + kPackColumns * kPackRows);
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kPackRows) {
    const int n = static_cast<int>(min_index(kPackRows, row_end - r0));
    for (int i = 0; i < kPackRows; ++i) {
      float* row = rows + i * stride;
      if (i < n) {
        dequantize_row(w, r0 + i, row);
        for (int64_t c = cols; c < stride; ++c) row[c] = 0.0f;
      } else {
        for (int64_t c = 0; c < stride; ++c) row[c] = 0.0f;
      }
    }
    for (int64_t i = 0; i < x.tokens * kPackRows; ++i) sums[i] = 0.0f;
    for (int64_t c0 = 0; c0 < cols; c0 += kPackColumns) {
      const int64_t length = min_index(kPackColumns, cols - c0);
      for (int64_t k = 0; k < length; k += 8) {  // pack: [k][16 rows]
        for (int half = 0; half < 2; ++half) {
          __m256 block[8];
          for (int i = 0; i < 8; ++i) block[i] = _mm256_loadu_ps(rows + (half * 8 + i) * stride + c0 + k);
          transpose8x8(block);
          for (int i = 0; i < 8 && k + i < length; ++i) _mm256_store_ps(packed + (k + i) * 16 + half * 8, block[i]);
        }
      }
      for (int64_t t0 = 0; t0 < x.tokens; t0 += kPackTokens) {
        const int tokens = static_cast<int>(min_index(kPackTokens, x.tokens - t0));
        const float* xs = x.f32 + t0 * cols + c0;
        float* acc = sums + t0 * kPackRows;
        switch (tokens) {
          case 6: packed_times_tokens<6>(packed, xs, cols, length, acc); break;
          case 5: packed_times_tokens<5>(packed, xs, cols, length, acc); break;
          case 4: packed_times_tokens<4>(packed, xs, cols, length, acc); break;
          case 3: packed_times_tokens<3>(packed, xs, cols, length, acc); break;
          case 2: packed_times_tokens<2>(packed, xs, cols, length, acc); break;
          default: packed_times_tokens<1>(packed, xs, cols, length, acc); break;
        }
      }
    }
    for (int64_t t = 0; t < x.tokens; ++t) {
      for (int i = 0; i < n; ++i) y[t * y_stride + (r0 + i - row_begin)] = sums[t * kPackRows + i];
    }
  }
}

}  // namespace

RowsKernel avx2_gemm_kernel() { return gemm_rows; }

}  // namespace lightseek::fast_kernels

#else
namespace lightseek::fast_kernels {
RowsKernel avx2_gemm_kernel() { return nullptr; }
}  // namespace lightseek::fast_kernels
#endif

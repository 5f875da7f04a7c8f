// Several tokens on AVX2 + FMA (CPUs without AMX): the weights of a few rows are dequantised once
// to float32 into a per-thread panel, then every token is multiplied against that panel with a
// register-blocked FMA kernel. Activations stay float32 (FP4 included: no int16 rounding), so
// each output differs from the exact product only by float32 summation.
//
// Why this shape: the matrix-vector kernels decode each weight again for every block of 4
// tokens and keep one FMA chain per token, which left prefill at 14–30 GFLOP/s of the machine's
// ~90. Here the decoding is paid once per row for the whole token group, and each step of 8
// columns does 12 independent FMAs (3 rows × 4 tokens) from 7 loads, all of it in L1.
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "core/number_formats.h"

namespace lightseek::fast_kernels {
namespace {

constexpr int kPanelRows = 3;
constexpr int kTokenBlock = 4;
// Columns per pass over a token block: a 3-row panel slice (6 KiB) and the block's activations
// (8 KiB) stay in L1 while the 12 accumulators run.
constexpr int64_t kColumnChunk = 512;

// The dequantised panel of one thread, reused between calls (no std templates in ISA files).
struct PanelBuffer {
  float* data = nullptr;
  int64_t capacity = 0;
  ~PanelBuffer() { std::free(data); }
  float* get(int64_t floats) {
    if (floats > capacity) {
      std::free(data);
      const int64_t bytes = (floats * 4 + 63) / 64 * 64;
      data = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(bytes)));
      capacity = data ? floats : 0;
    }
    return data;
  }
};

inline float sum_of_lanes(__m256 v) {
  const __m128 pair = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 two = _mm_add_ps(pair, _mm_movehl_ps(pair, pair));
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

void dequantize_fp4_row(const uint8_t* packed, const uint8_t* scales, int64_t cols, float* out) {
  const __m128i table = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  for (int64_t c = 0; c < cols; c += 32) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + c / 2));
    const __m128i even = _mm_shuffle_epi8(table, _mm_and_si128(bytes, low_nibbles));
    const __m128i odd = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles));
    const __m128i first = _mm_unpacklo_epi8(even, odd), second = _mm_unpackhi_epi8(even, odd);
    const __m256 scale = _mm256_set1_ps(fast_e8m0(scales[c / 32]) * 0.5f);  // the table holds doubled codes
    _mm256_store_ps(out + c, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(first)), scale));
    _mm256_store_ps(out + c + 8,
                    _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(first, 8))), scale));
    _mm256_store_ps(out + c + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(second)), scale));
    _mm256_store_ps(out + c + 24,
                    _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(second, 8))), scale));
  }
}

// The codes moved into IEEE half give the value times 2^-8 exactly (see fast_linear_avx2.cpp);
// the 256 is folded into the block scale.
void dequantize_fp8_row(const uint8_t* codes, const uint8_t* scales, int64_t cols, float* out) {
  for (int64_t b = 0; b < cols; b += 128) {
    const int64_t end = min_index(cols, b + 128);
    const float scale = fast_e8m0(scales[b / 128]);
    const __m256 half_scale = _mm256_set1_ps(scale * kFp8HalfCorrection);
    int64_t c = b;
    for (; c + 8 <= end; c += 8) {
      int64_t eight;
      std::memcpy(&eight, codes + c, 8);
      const __m128i shifted = _mm_slli_epi16(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(eight)), 7);
      const __m256 halves = _mm256_cvtph_ps(_mm_and_si128(shifted, _mm_set1_epi16(static_cast<short>(0xBFFF))));
      _mm256_store_ps(out + c, _mm256_mul_ps(halves, half_scale));
    }
    for (; c < end; ++c) out[c] = fp8_e4m3_to_f32(codes[c]) * scale;
  }
}

void dequantize_bf16_row(const uint8_t* row, int64_t cols, float* out) {
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c * 2));
    _mm256_store_ps(out + c, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16)));
  }
  for (; c < cols; ++c) out[c] = stored_value<true>(row, c);
}

void dequantize_row(const WeightMatrix& w, int64_t r, float* out) {
  const int64_t cols = w.cols;
  switch (w.format) {
    case WeightFormat::FP4_E2M1_BLOCK32:
      dequantize_fp4_row(w.weight.data + r * (cols / 2), w.scale.data + r * (cols / 32), cols, out);
      return;
    case WeightFormat::FP8_E4M3_BLOCK128:
      dequantize_fp8_row(w.weight.data + r * cols, w.scale.data + (r / 128) * ((cols + 127) / 128), cols, out);
      return;
    case WeightFormat::BF16: dequantize_bf16_row(w.weight.data + r * cols * 2, cols, out); return;
    case WeightFormat::F32: std::memcpy(out, w.weight.data + r * cols * 4, static_cast<size_t>(cols) * 4); return;
  }
}

// sums[r * T + t] = Σ_k panel[r][k] · x[t][k] over `length` columns (a multiple of 8).
template <int R, int T>
void panel_times_tokens(const float* panel, int64_t panel_stride, const float* x, int64_t x_stride, int64_t length,
                        float* sums) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < length; k += 8) {
    __m256 weights[R];
    for (int r = 0; r < R; ++r) weights[r] = _mm256_load_ps(panel + r * panel_stride + k);
    for (int t = 0; t < T; ++t) {
      const __m256 activation = _mm256_loadu_ps(x + t * x_stride + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(weights[r], activation, acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) sums[r * T + t] = sum_of_lanes(acc[r][t]);
  }
}

template <int R>
void panel_times_token_block(int tokens, const float* panel, int64_t panel_stride, const float* x, int64_t x_stride,
                             int64_t length, float* sums) {
  switch (tokens) {
    case 4: panel_times_tokens<R, 4>(panel, panel_stride, x, x_stride, length, sums); return;
    case 3: panel_times_tokens<R, 3>(panel, panel_stride, x, x_stride, length, sums); return;
    case 2: panel_times_tokens<R, 2>(panel, panel_stride, x, x_stride, length, sums); return;
    default: panel_times_tokens<R, 1>(panel, panel_stride, x, x_stride, length, sums); return;
  }
}

void gemm_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
               int64_t y_stride) {
  thread_local PanelBuffer buffer;
  const int64_t cols = w.cols;
  const int64_t stride = (cols + 7) / 8 * 8;  // rows start 32-byte aligned
  const int64_t vector_cols = cols / 8 * 8;
  float* panel = buffer.get(kPanelRows * stride);
  if (panel == nullptr) std::abort();  // out of memory for a few rows: nothing sensible to do
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int rows = static_cast<int>(min_index(kPanelRows, row_end - r0));
    for (int i = 0; i < rows; ++i) dequantize_row(w, r0 + i, panel + i * stride);
    for (int64_t t = 0; t < x.tokens; ++t) {
      for (int i = 0; i < rows; ++i) y[t * y_stride + (r0 + i - row_begin)] = 0.0f;
    }
    for (int64_t c0 = 0; c0 < vector_cols; c0 += kColumnChunk) {
      const int64_t length = min_index(kColumnChunk, vector_cols - c0);
      for (int64_t t0 = 0; t0 < x.tokens; t0 += kTokenBlock) {
        const int tokens = static_cast<int>(min_index(kTokenBlock, x.tokens - t0));
        float sums[kPanelRows * kTokenBlock] = {};
        const float* xs = x.f32 + t0 * cols + c0;
        switch (rows) {
          case 3: panel_times_token_block<3>(tokens, panel + c0, stride, xs, cols, length, sums); break;
          case 2: panel_times_token_block<2>(tokens, panel + c0, stride, xs, cols, length, sums); break;
          default: panel_times_token_block<1>(tokens, panel + c0, stride, xs, cols, length, sums); break;
        }
        for (int i = 0; i < rows; ++i) {
          for (int t = 0; t < tokens; ++t) y[(t0 + t) * y_stride + (r0 + i - row_begin)] += sums[i * tokens + t];
        }
      }
    }
    for (int64_t c = vector_cols; c < cols; ++c) {  // fewer than 8 trailing columns
      for (int64_t t = 0; t < x.tokens; ++t) {
        for (int i = 0; i < rows; ++i) y[t * y_stride + (r0 + i - row_begin)] += panel[i * stride + c] * x.f32[t * cols + c];
      }
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

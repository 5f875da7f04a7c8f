// FP8 matrix-vector products on AVX512-BF16: each e4m3 code becomes a bf16 by shifting its bits
// (three instructions for 32 codes, against eight through IEEE half), and vdpbf16ps multiplies
// 32 pairs at once. The activations are carried as two bf16 parts (x·2^E ≈ high + low, 16
// significant bits, E chosen per call). Compiled for the Isa::Avx512Bf16 level alone; used only
// where the CPU has it. FP8 subnormals (|code| < 2^-6, under 1/28000 of the block's largest
// value) read as bf16 subnormals, which vdpbf16ps takes as zero.
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__) && defined(__AVX512BF16__)
#include <immintrin.h>

namespace lightseek::fast_kernels {
namespace {

// 32 e4m3 codes → bf16 with value code·2^-120: sign-extend to 16 bits, move exponent and
// mantissa down into bf16 position, keep the sign bit and those seven bits.
inline __m512bh fp8_to_bf16_bits(const uint8_t* codes) {
  const __m512i wide = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes)));
  return reinterpret_cast<__m512bh>(
      _mm512_and_si512(_mm512_slli_epi16(wide, 4), _mm512_set1_epi16(static_cast<short>(0x87F0))));
}

// RB consecutive rows and TB tokens at a time, so that each row's codes are converted once for TB
// tokens and each token's activations loaded once for RB rows. FP8 4096×4096, one thread, at 12
// / 32 / 256 tokens: 59 / 59 / 56 GFLOP/s one row at a time (TB = 4), 104 / 115 / 105 with
// 2 × 4, 139 / 164 / 147 with 4 × 4, 131 / 158 / 145 with 4 × 2.
constexpr int kRowBlock = 4, kTokenBlock = 4;
template <int RB, int TB>
void fp8_block(const uint8_t* codes, const uint8_t* scales, int64_t cols, int64_t row, const Activations& x, int64_t t0,
               float* out, int64_t out_stride) {
  const int64_t scale_cols = cols / 128;
  const __m512 correction = _mm512_set1_ps(x.fp8_tiny_correction[0]);
  __m512 sums[RB][TB];
  for (int r = 0; r < RB; ++r) {
    for (int t = 0; t < TB; ++t) sums[r][t] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < cols; b += 128) {
    __m512 block[RB][TB];
    for (int r = 0; r < RB; ++r) {
      for (int t = 0; t < TB; ++t) block[r][t] = _mm512_setzero_ps();
    }
    for (int step = 0; step < 4; ++step) {
      const int64_t c = b + step * 32;
      __m512bh weights[RB];
      for (int r = 0; r < RB; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(codes + r * cols + c + kPrefetchBytes), _MM_HINT_T0);
        weights[r] = fp8_to_bf16_bits(codes + r * cols + c);
      }
      for (int t = 0; t < TB; ++t) {
        const int64_t offset = (t0 + t) * x.padded_cols + c;
        const __m512bh high = reinterpret_cast<__m512bh>(_mm512_loadu_si512(x.bf16_high + offset));
        const __m512bh low = reinterpret_cast<__m512bh>(_mm512_loadu_si512(x.bf16_low + offset));
        for (int r = 0; r < RB; ++r) {
          block[r][t] = _mm512_dpbf16_ps(_mm512_dpbf16_ps(block[r][t], weights[r], high), weights[r], low);
        }
      }
    }
    for (int r = 0; r < RB; ++r) {
      const __m512 scale = _mm512_set1_ps(fast_e8m0(scales[((row + r) / 128) * scale_cols + b / 128]));
      for (int t = 0; t < TB; ++t)
        sums[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(block[r][t], correction), scale, sums[r][t]);
    }
  }
  for (int r = 0; r < RB; ++r) {
    for (int t = 0; t < TB; ++t) out[r + t * out_stride] = _mm512_reduce_add_ps(sums[r][t]) * x.fp8_tiny_correction[1];
  }
}

// Decode (one token): kDecodeStreams rows at a time, one from each part of the range, sharing
// the activation loads; each row's two accumulator pairs alternate by step, so consecutive
// vdpbf16ps do not wait for each other. Four streams rather than two: the projections of a
// one-thread decode (FP8, 0.5 GB) took 15.3–15.5 ms against 17.2–17.4 (alternated 3×), though
// the micro-benchmark's single 16 MB matrix read faster with two (33–35 GB/s against 27).
constexpr int kDecodeStreams = 4;
// Projections of that decode, 3 runs each: 512 B ahead 17.2–17.4 ms, 1 KiB 15.3, 2 KiB 12.9–13.4,
// 4 KiB 14.0–14.4, 8 KiB 14.7–15.0.
constexpr int64_t kDecodePrefetchBytes = 2048;

// Block scales decoded per run of this many blocks, into floats on the stack: loaded and
// broadcast in one instruction each inside the loop, where each had taken four (a byte load,
// a shift, a move and a broadcast) and its row's pointer a register.
constexpr int64_t kScaleRun = 64;

// R = 1 for the rows left over: the same arithmetic, so that a row's result does not depend on
// how the threads split the range.
template <int R>
void fp8_row_group(const RowGroup<R>& rows, const WeightMatrix& w, const Activations& x, float* out) {
  const int64_t cols = w.cols, scale_cols = cols / 128;
  const __m512 correction = _mm512_set1_ps(x.fp8_tiny_correction[0]);
  const uint8_t* codes[R];
  __m512 sums[R];
  for (int r = 0; r < R; ++r) {
    codes[r] = w.weight.data + rows.row[r] * cols;
    sums[r] = _mm512_setzero_ps();
  }
  alignas(64) float block_scales[R][kScaleRun];
  for (int64_t run = 0; run < scale_cols; run += kScaleRun) {
    const int64_t blocks = scale_cols - run < kScaleRun ? scale_cols - run : kScaleRun;
    for (int r = 0; r < R; ++r) {  // fast_e8m0 of each: the code moved into float32's exponent
      const uint8_t* scales = w.scale.data + (rows.row[r] / 128) * scale_cols + run;
      for (int64_t i = 0; i < blocks; i += 16) {
        const __m512i codes32 = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(lanes_below(blocks - i), scales + i));
        _mm512_store_ps(block_scales[r] + i, _mm512_castsi512_ps(_mm512_slli_epi32(codes32, 23)));
      }
    }
    for (int64_t block = 0; block < blocks; ++block) {
      const int64_t b = (run + block) * 128;
      __m512 high[R][2], low[R][2];
      for (int r = 0; r < R; ++r) high[r][0] = high[r][1] = low[r][0] = low[r][1] = _mm512_setzero_ps();
      for (int step = 0; step < 4; ++step) {
        const int64_t c = b + step * 32;
        const __m512bh high_x = reinterpret_cast<__m512bh>(_mm512_loadu_si512(x.bf16_high + c));
        const __m512bh low_x = reinterpret_cast<__m512bh>(_mm512_loadu_si512(x.bf16_low + c));
        for (int r = 0; r < R; ++r) {
          if (step % 2 == 0)
            _mm_prefetch(reinterpret_cast<const char*>(codes[r] + c + kDecodePrefetchBytes), _MM_HINT_T0);
          const __m512bh weights = fp8_to_bf16_bits(codes[r] + c);
          high[r][step % 2] = _mm512_dpbf16_ps(high[r][step % 2], weights, high_x);
          low[r][step % 2] = _mm512_dpbf16_ps(low[r][step % 2], weights, low_x);
        }
      }
      for (int r = 0; r < R; ++r) {
        const __m512 partial =
            _mm512_add_ps(_mm512_add_ps(high[r][0], low[r][0]), _mm512_add_ps(high[r][1], low[r][1]));
        sums[r] = _mm512_fmadd_ps(_mm512_mul_ps(partial, correction), _mm512_set1_ps(block_scales[r][block]), sums[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) out[r] = _mm512_reduce_add_ps(sums[r]) * x.fp8_tiny_correction[1];
}

void fp8_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
              int64_t y_stride) {
  const int64_t cols = w.cols;
  if (x.tokens == 1) {
    for_each_row_group<kDecodeStreams>(
        row_begin, row_end, y,
        [&](const RowGroup<kDecodeStreams>& rows, float* out) { fp8_row_group<kDecodeStreams>(rows, w, x, out); },
        [&](int64_t r) { fp8_row_group<1>(RowGroup<1>{{r}}, w, x, y + (r - row_begin)); });
    return;
  }
  for_each_row_block_and_token_block<kRowBlock, kTokenBlock>(
      row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto rows, auto tokens) {
        fp8_block<decltype(rows)::value, decltype(tokens)::value>(w.weight.data + r * cols, w.scale.data, cols, r, x, t,
                                                                  y + (r - row_begin) + t * y_stride, y_stride);
      });
}

}  // namespace

RowsKernel avx512_bf16_fp8_kernel() { return fp8_rows; }

void split_bf16_activations(const float* x, int64_t tokens, int64_t cols, int64_t padded, uint16_t* high, uint16_t* low,
                            float correction[2]) {
  const __m512 magnitude_bits = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  __m512 amax16 = _mm512_setzero_ps();
  for (int64_t i = 0; i < tokens * cols; i += 16) {
    const __m512 values = _mm512_maskz_loadu_ps(lanes_below(tokens * cols - i), x + i);
    amax16 = _mm512_max_ps(amax16, _mm512_and_ps(values, magnitude_bits));
  }
  const Fp8CodeScaling scaling = fp8_code_scaling(_mm512_reduce_max_ps(amax16));
  correction[0] = scaling.correction[0];
  correction[1] = scaling.correction[1];
  const __m512 factor = _mm512_set1_ps(__builtin_ldexpf(1.0f, scaling.exponent));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t c = 0; c < padded; c += 32) {
      const __m512 a = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes_below(cols - c), x + t * cols + c), factor);
      const __m512 b = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes_below(cols - c - 16), x + t * cols + c + 16), factor);
      const __m512i rounded = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
      const __m512 a_back =
          _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(rounded)), 16));
      const __m512 b_back =
          _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(rounded, 1)), 16));
      const __m512i residual =
          reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(_mm512_sub_ps(b, b_back), _mm512_sub_ps(a, a_back)));
      _mm512_storeu_si512(high + t * padded + c, rounded);
      _mm512_storeu_si512(low + t * padded + c, residual);
    }
  }
}

}  // namespace lightseek::fast_kernels

#else
namespace lightseek::fast_kernels {
RowsKernel avx512_bf16_fp8_kernel() { return nullptr; }
void split_bf16_activations(const float*, int64_t, int64_t, int64_t, uint16_t*, uint16_t*, float[2]) {}
}  // namespace lightseek::fast_kernels
#endif

// AVX-512 (F/BW/VL/DQ + VNNI) kernels of fast_linear. Built with those instruction sets enabled
// for this file only; called only where cpu_supports(Isa::Avx512).
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/fp4_vnni_rows.h"

namespace lightseek::fast_kernels {
namespace {

// Tokens that share one decoding of a weight chunk.
constexpr int kTokenBlock = 4;

// 16 FP8 e4m3 codes → float32 times 2^-8: sign-extend to 16 bits, shift the exponent and
// mantissa into half-precision position, clear the copy of the sign that lands in bit 14.
inline __m512 fp8_to_scaled_f32(__m128i codes) {
  const __m256i shifted = _mm256_slli_epi16(_mm256_cvtepi8_epi16(codes), 7);
  return _mm512_cvtph_ps(_mm256_and_si256(shifted, _mm256_set1_epi16(static_cast<short>(0xBFFF))));
}

template <int TB>
void fp8_row(const uint8_t* codes, const uint8_t* scales, int64_t cols, const Activations& x, int64_t t0, float* out,
             int64_t out_stride) {
  __m512 sums[TB];
  for (int t = 0; t < TB; ++t) sums[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < cols; b += 128) {
    const int64_t end = min_index(cols, b + 128);
    // Two accumulators per token so that consecutive FMAs do not wait for each other.
    __m512 even[TB], odd[TB];
    for (int t = 0; t < TB; ++t) even[t] = odd[t] = _mm512_setzero_ps();
    int64_t c = b;
    for (; c + 32 <= end; c += 32) {
      _mm_prefetch(reinterpret_cast<const char*>(codes + c + kPrefetchBytes), _MM_HINT_T0);
      const __m512 w0 = fp8_to_scaled_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + c)));
      const __m512 w1 = fp8_to_scaled_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + c + 16)));
      for (int t = 0; t < TB; ++t) {
        const float* xt = x.f32 + (t0 + t) * cols + c;
        even[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xt), even[t]);
        odd[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xt + 16), odd[t]);
      }
    }
    for (; c < end; c += 16) {
      const __mmask16 mask = lanes_below(end - c);
      const __m512 weights = fp8_to_scaled_f32(_mm_maskz_loadu_epi8(mask, codes + c));
      for (int t = 0; t < TB; ++t) {
        even[t] = _mm512_fmadd_ps(weights, _mm512_maskz_loadu_ps(mask, x.f32 + (t0 + t) * cols + c), even[t]);
      }
    }
    const __m512 scale = _mm512_set1_ps(fast_e8m0(scales[b / 128]) * kFp8HalfCorrection);
    for (int t = 0; t < TB; ++t) sums[t] = _mm512_fmadd_ps(_mm512_add_ps(even[t], odd[t]), scale, sums[t]);
  }
  for (int t = 0; t < TB; ++t) out[t * out_stride] = _mm512_reduce_add_ps(sums[t]);
}

// Several tokens: RB consecutive rows × TB tokens, so that each row's codes are converted once
// for TB tokens and each token's activations loaded once for RB rows (as the AVX512-BF16
// kernel). FP8 4096×4096, one thread (LIGHTSEEK_ISA=avx512 on the Zen 5 machine), at 4 / 12 /
// 32 / 256 tokens: 61 / 65 / 65 / 64 GFLOP/s one row at a time (TB = 4), 116–117 / 119 / 119 /
// 116 with 2 × 4 and the one-row kernel's two accumulators. A single accumulator per row and
// token reached 109–129 with 4 × 4, but its other summation order moved tiny_native's FP8-KV
// "medium" case from a mean KL of 1.0e-4 to 1.05e-3 (an indexer selection flips), past the
// 1e-3 limit; with the one-row order the results are the one-row kernel's, bit for bit.
template <int RB, int TB>
void fp8_block(const uint8_t* codes, const uint8_t* scales, int64_t cols, int64_t row, const Activations& x,
               int64_t t0, float* out, int64_t out_stride) {
  const int64_t scale_cols = (cols + 127) / 128;
  __m512 sums[RB][TB];
  for (int r = 0; r < RB; ++r) {
    for (int t = 0; t < TB; ++t) sums[r][t] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < cols; b += 128) {
    const int64_t end = min_index(cols, b + 128);
    // Two accumulators per row and token, over alternate 16-column steps and then the tail: the
    // one-row kernel's order, so that results do not depend on the blocking.
    __m512 even[RB][TB], odd[RB][TB];
    for (int r = 0; r < RB; ++r) {
      for (int t = 0; t < TB; ++t) even[r][t] = odd[r][t] = _mm512_setzero_ps();
    }
    int64_t c = b;
    for (; c + 32 <= end; c += 32) {
      __m512 w0[RB], w1[RB];
      for (int r = 0; r < RB; ++r) {
        if (c % 64 == 0) {
          _mm_prefetch(reinterpret_cast<const char*>(codes + r * cols + c + kPrefetchBytes), _MM_HINT_T0);
        }
        w0[r] = fp8_to_scaled_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + r * cols + c)));
        w1[r] = fp8_to_scaled_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + r * cols + c + 16)));
      }
      for (int t = 0; t < TB; ++t) {
        const float* xt = x.f32 + (t0 + t) * cols + c;
        const __m512 x0 = _mm512_loadu_ps(xt), x1 = _mm512_loadu_ps(xt + 16);
        for (int r = 0; r < RB; ++r) {
          even[r][t] = _mm512_fmadd_ps(w0[r], x0, even[r][t]);
          odd[r][t] = _mm512_fmadd_ps(w1[r], x1, odd[r][t]);
        }
      }
    }
    for (; c < end; c += 16) {
      const __mmask16 mask = lanes_below(end - c);
      __m512 weights[RB];
      for (int r = 0; r < RB; ++r) weights[r] = fp8_to_scaled_f32(_mm_maskz_loadu_epi8(mask, codes + r * cols + c));
      for (int t = 0; t < TB; ++t) {
        const __m512 xt = _mm512_maskz_loadu_ps(mask, x.f32 + (t0 + t) * cols + c);
        for (int r = 0; r < RB; ++r) even[r][t] = _mm512_fmadd_ps(weights[r], xt, even[r][t]);
      }
    }
    for (int r = 0; r < RB; ++r) {
      const __m512 scale =
          _mm512_set1_ps(fast_e8m0(scales[((row + r) / 128) * scale_cols + b / 128]) * kFp8HalfCorrection);
      for (int t = 0; t < TB; ++t) {
        sums[r][t] = _mm512_fmadd_ps(_mm512_add_ps(even[r][t], odd[r][t]), scale, sums[r][t]);
      }
    }
  }
  for (int r = 0; r < RB; ++r) {
    for (int t = 0; t < TB; ++t) out[r + t * out_stride] = _mm512_reduce_add_ps(sums[r][t]);
  }
}

void fp8_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
              int64_t y_stride) {
  const int64_t cols = w.cols, scale_cols = (cols + 127) / 128;
  if (x.tokens == 1) {
    for_each_row_and_token_block<1>(row_begin, row_end, 1, [&](int64_t r, int64_t t, auto) {
      fp8_row<1>(w.weight.data + r * cols, w.scale.data + (r / 128) * scale_cols, cols, x, t, y + (r - row_begin),
                 y_stride);
    });
    return;
  }
  for_each_row_block_and_token_block<2, 4>(
      row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto rows, auto tokens) {
        fp8_block<decltype(rows)::value, decltype(tokens)::value>(w.weight.data + r * cols, w.scale.data, cols, r, x,
                                                                  t, y + (r - row_begin) + t * y_stride, y_stride);
      });
}

template <bool kBf16>
inline __m512 float_weights(const uint8_t* row, int64_t c, __mmask16 mask) {
  if constexpr (kBf16) {
    const __m256i bits = _mm256_maskz_loadu_epi16(mask, row + c * 2);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
  } else {
    return _mm512_maskz_loadu_ps(mask, row + c * 4);
  }
}

// How far ahead the one-token BF16/F32 kernel prefetches when it reads one row alone (the rows
// left over by float_row_group, and a several-token call's last token). It read the whole LM head
// one row at a time until float_row_group: a one-thread decode's head at 2K (BF16, 1.06 GB) on the
// Zen 5 machine, alternated 5×: 28.4–29.0 ms at 4 KiB, 30.4–31.7 at the other kernels' 8 KiB
// (2 KiB 29.0–29.6, 16 KiB 30.2–30.5).
constexpr int64_t kFloatRowPrefetchBytes = 4096;

// One token, R rows sharing each load of the activations: four FMA chains per row, so that the
// loop waits on loads rather than on FMA latency, each row's the same whatever R is (the same
// bits alone and in a group). Each row is prefetched kAhead bytes ahead.
// Always inlined: with several callers GCC 12 made it a function of its own, and a call per row
// of the LM head (129280 rows) cost a one-thread decode 0.3–0.6 ms per token.
template <int R, bool kBf16, int64_t kAhead>
__attribute__((always_inline)) inline void float_rows_dot(const uint8_t* const* row, int64_t cols, const float* x,
                                                          float* out) {
  constexpr int64_t kBytes = kBf16 ? 2 : 4;
  __m512 s0[R], s1[R], s2[R], s3[R];
  for (int r = 0; r < R; ++r) s0[r] = s1[r] = s2[r] = s3[r] = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 64 <= cols; c += 64) {
    const __m512 x0 = _mm512_loadu_ps(x + c), x1 = _mm512_loadu_ps(x + c + 16);
    const __m512 x2 = _mm512_loadu_ps(x + c + 32), x3 = _mm512_loadu_ps(x + c + 48);
    for (int r = 0; r < R; ++r) {
      for (int64_t line = 0; line < 64 * kBytes; line += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(row[r] + c * kBytes + line + kAhead), _MM_HINT_T0);
      }
      s0[r] = _mm512_fmadd_ps(float_weights<kBf16>(row[r], c, 0xFFFF), x0, s0[r]);
      s1[r] = _mm512_fmadd_ps(float_weights<kBf16>(row[r], c + 16, 0xFFFF), x1, s1[r]);
      s2[r] = _mm512_fmadd_ps(float_weights<kBf16>(row[r], c + 32, 0xFFFF), x2, s2[r]);
      s3[r] = _mm512_fmadd_ps(float_weights<kBf16>(row[r], c + 48, 0xFFFF), x3, s3[r]);
    }
  }
  for (; c < cols; c += 16) {
    const __mmask16 mask = lanes_below(cols - c);
    const __m512 xt = _mm512_maskz_loadu_ps(mask, x + c);
    for (int r = 0; r < R; ++r) s0[r] = _mm512_fmadd_ps(float_weights<kBf16>(row[r], c, mask), xt, s0[r]);
  }
  for (int r = 0; r < R; ++r) {
    out[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0[r], s1[r]), _mm512_add_ps(s2[r], s3[r])));
  }
}

// Always inlined too, for the same reason: it serves a row at a time.
template <bool kBf16>
__attribute__((always_inline)) inline float float_row_single(const uint8_t* row, int64_t cols, const float* x) {
  float out;
  float_rows_dot<1, kBf16, kFloatRowPrefetchBytes>(&row, cols, x, &out);
  return out;
}

template <int TB, bool kBf16>
void float_row(const uint8_t* row, int64_t cols, const Activations& x, int64_t t0, float* out, int64_t out_stride) {
  if constexpr (TB == 1) {
    out[0] = float_row_single<kBf16>(row, cols, x.f32 + t0 * cols);
    return;
  }
  __m512 sums[TB];
  for (int t = 0; t < TB; ++t) sums[t] = _mm512_setzero_ps();
  for (int64_t c = 0; c < cols; c += 16) {
    const __mmask16 mask = lanes_below(cols - c);
    if (c % 32 == 0) _mm_prefetch(reinterpret_cast<const char*>(row + c * (kBf16 ? 2 : 4) + kPrefetchBytes), _MM_HINT_T0);
    __m512 weights;
    if constexpr (kBf16) {
      const __m256i bits = _mm256_maskz_loadu_epi16(mask, row + c * 2);
      weights = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
    } else {
      weights = _mm512_maskz_loadu_ps(mask, row + c * 4);
    }
    for (int t = 0; t < TB; ++t) {
      sums[t] = _mm512_fmadd_ps(weights, _mm512_maskz_loadu_ps(mask, x.f32 + (t0 + t) * cols + c), sums[t]);
    }
  }
  for (int t = 0; t < TB; ++t) out[t * out_stride] = _mm512_reduce_add_ps(sums[t]);
}

// One token, R rows from R parts of the range, each stream prefetched kFloatGroupPrefetchBytes
// ahead like the FP4 and FP8 kernels' four.
// - The hyper-connection mixes (F32, 24 × 16384: 64 KB of activations, too many to stay in L1
//   beside the weight stream) one row at a time read 38.5 GB/s back to back and 23 GB/s between
//   other products in a harness; four at a time 42.9 and 31.6.
// - The LM head (BF16, 129280 × 4096) of a one-thread decode at 2K, alternated: one row at a time
//   27.7–28.0 ms; four rows 2 KiB ahead 26.5–26.7 (1 KiB 28.6–28.7, 1.5 KiB 26.6–27.0, 3 KiB
//   28.2–28.5, 4 KiB 28.5–29.4).
constexpr int64_t kFloatGroupPrefetchBytes = 2048;

template <int R, bool kBf16>
void float_row_group(const RowGroup<R>& rows, const WeightMatrix& w, const Activations& x, float* out) {
  const uint8_t* row[R];
  for (int r = 0; r < R; ++r) row[r] = w.weight.data + rows.row[r] * w.cols * (kBf16 ? 2 : 4);
  float_rows_dot<R, kBf16, kFloatGroupPrefetchBytes>(row, w.cols, x.f32, out);
}

template <bool kBf16>
void float_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
                int64_t y_stride) {
  const int64_t cols = w.cols;
  const int64_t row_bytes = cols * (kBf16 ? 2 : 4);
  if (x.tokens == 1) {
    for_each_row_group<4>(
        row_begin, row_end, y,
        [&](const RowGroup<4>& rows, float* out) { float_row_group<4, kBf16>(rows, w, x, out); },
        [&](int64_t r) { y[r - row_begin] = float_row_single<kBf16>(w.weight.data + r * row_bytes, cols, x.f32); });
    return;
  }
  for_each_row_and_token_block<kTokenBlock>(row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto block) {
    float_row<decltype(block)::value, kBf16>(w.weight.data + r * row_bytes, cols, x, t,
                                             y + (r - row_begin) + t * y_stride, y_stride);
  });
}

}  // namespace

const KernelTable& avx512_kernels() {
  static const KernelTable table = {fp4_rows_vnni<false>, fp8_rows, float_rows<true>, float_rows<false>};
  return table;
}

namespace {

// A block of 32 values quantised as the scalar definition does: the scale from the largest
// magnitude (compared through the bits, as there), then round to nearest even (vcvtps2dq in the
// default rounding mode is what adding and subtracting 1.5·2^23 does for these magnitudes). A NaN
// or infinite product becomes 0x80000000, whose split below is 0 and 0, as the scalar int16 0 is.
inline void quantize_block(const float* x, __mmask16 first, __mmask16 second, __m512i& q0, __m512i& q1,
                           float& scale) {
  const __m512 v0 = _mm512_maskz_loadu_ps(first, x), v1 = _mm512_maskz_loadu_ps(second, x + 16);
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  const int32_t amax_bits = _mm512_reduce_max_epi32(_mm512_max_epi32(
      _mm512_and_si512(_mm512_castps_si512(v0), magnitude), _mm512_and_si512(_mm512_castps_si512(v1), magnitude)));
  const float amax = __builtin_bit_cast(float, amax_bits);
  const __m512 inverse = _mm512_set1_ps(amax > 0.0f ? kQuantMax / amax : 0.0f);
  scale = amax / kQuantMax * 0.5f;
  q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, inverse));
  q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, inverse));
}

// 16 int16 values (in int32 lanes) as their int8 high and low parts: value = 256·high + low with
// low in [-128, 127].
inline void store_split(__m512i values, int8_t* high, int8_t* low) {
  const __m512i high_part = _mm512_srai_epi32(_mm512_add_epi32(values, _mm512_set1_epi32(128)), 8);
  const __m512i low_part = _mm512_sub_epi32(values, _mm512_slli_epi32(high_part, 8));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(high), _mm512_cvtepi32_epi8(high_part));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(low), _mm512_cvtepi32_epi8(low_part));
}

}  // namespace

void avx512_prepare_fp4_rows(const float* x, int64_t tokens, int64_t cols, int64_t padded128, int8_t* high,
                             int8_t* low, int32_t* lane_bias, float* lane_scale) {
  const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
  const __m512i lane_blocks = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t t = 0; t < tokens; ++t) {
    const float* row = x + t * cols;
    int8_t* high_row = high + t * padded128;
    int8_t* low_row = low + t * padded128;
    for (int64_t g = 0; g < padded128; g += 128) {
      // Columns g + 16k .. g + 16k + 15 in q[k]; block b of the group is q[2b], q[2b + 1].
      __m512i q[8];
      alignas(16) float block_scales[4];
      for (int b = 0; b < 4; ++b) {
        const int64_t begin = g + 32 * b;
        quantize_block(row + begin, lanes_below(cols - begin), lanes_below(cols - begin - 16), q[2 * b],
                       q[2 * b + 1], block_scales[b]);
      }
      // Each 64-column chunk's even columns go to [32·chunk, 32·chunk + 32) of the group, its odd
      // ones 64 further on (Activations).
      for (int chunk = 0; chunk < 2; ++chunk) {
        const __m512i* from = q + 4 * chunk;
        int8_t* even_high = high_row + g + 32 * chunk;
        int8_t* even_low = low_row + g + 32 * chunk;
        store_split(_mm512_permutex2var_epi32(from[0], evens, from[1]), even_high, even_low);
        store_split(_mm512_permutex2var_epi32(from[2], evens, from[3]), even_high + 16, even_low + 16);
        store_split(_mm512_permutex2var_epi32(from[0], odds, from[1]), even_high + 64, even_low + 64);
        store_split(_mm512_permutex2var_epi32(from[2], odds, from[3]), even_high + 80, even_low + 80);
      }
      // A lane's 8 columns are 4 bytes of the evens and the same 4 bytes of the odds: vpdpbusd
      // against ones sums exactly those. The sums are exact: 256·Σhigh + Σlow = Σvalues.
      const __m512i high_sums = _mm512_dpbusd_epi32(
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(high_row + g)), ones,
          _mm512_loadu_si512(high_row + g + 64));
      const __m512i low_sums = _mm512_dpbusd_epi32(
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(low_row + g)), ones,
          _mm512_loadu_si512(low_row + g + 64));
      const __m512i sums = _mm512_add_epi32(_mm512_slli_epi32(high_sums, 8), low_sums);
      const int64_t lane = (t * padded128 + g) / 8;
      _mm512_storeu_si512(lane_bias + lane, _mm512_mullo_epi32(sums, _mm512_set1_epi32(-12)));
      _mm512_storeu_ps(lane_scale + lane,
                       _mm512_permutexvar_ps(lane_blocks, _mm512_castps128_ps512(_mm_load_ps(block_scales))));
    }
  }
}

}  // namespace lightseek::fast_kernels

#else  // not x86-64: never selected
namespace lightseek::fast_kernels {
const KernelTable& avx512_kernels() { return scalar_kernels(); }
void avx512_prepare_fp4_rows(const float*, int64_t, int64_t, int64_t, int8_t*, int8_t*, int32_t*, float*) {}
}  // namespace lightseek::fast_kernels
#endif

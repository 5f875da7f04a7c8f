// AVX-512 (F/BW/VL/DQ + VNNI) kernels of fast_linear. Built with those instruction sets enabled
// for this file only; called only where cpu_supports(Isa::Avx512).
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>


namespace lightseek::fast_kernels {
namespace {

// Tokens that share one decoding of a weight chunk.
constexpr int kTokenBlock = 4;

// Doubled FP4 values plus 12 by code (so that they are unsigned bytes), for vpshufb.
inline __m512i fp4_doubled_plus_12_table() {
  return _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
}

// FP4 × int8 pairs with vpdpbusd: 128 columns per step, four vpdpbusd per token where the int16
// kernel needs twice the unpacking work. (w + 12)·(256·high + low) summed per lane, plus the
// lane's −12·Σx, is exactly the int16 kernel's integer dot product.
template <int TB>
void fp4_row_vnni(const uint8_t* packed, const uint8_t* scales, int64_t cols, const Activations& x, int64_t t0,
                  float* out, int64_t out_stride) {
  const __m512i table = fp4_doubled_plus_12_table();
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  const int64_t lanes_per_token = x.padded128 / 8;
  __m512 sums[TB];
  for (int t = 0; t < TB; ++t) sums[t] = _mm512_setzero_ps();
  __m512 block_scales = _mm512_setzero_ps();
  for (int64_t g = 0; g < cols; g += 128) {
    if (g % 512 == 0) {  // 16 blocks share one scale load
      const int64_t blocks = min_index(16, (cols - g) / 32);
      const __m128i codes = _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << blocks) - 1), scales + g / 32);
      block_scales = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu8_epi32(codes), 23));
    }
    // Lane i of this group belongs to block (g % 512) / 32 + i / 4.
    const __m512i pick = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>((g % 512) / 32)),
                                          _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    const __m512 weight_scale = _mm512_permutexvar_ps(pick, block_scales);
    const int64_t bytes = (cols - g) / 2;
    _mm_prefetch(reinterpret_cast<const char*>(packed + g / 2 + kPrefetchBytes), _MM_HINT_T0);
    const __m512i codes = bytes >= 64 ? _mm512_loadu_si512(packed + g / 2)
                                      : _mm512_maskz_loadu_epi8((__mmask64{1} << bytes) - 1, packed + g / 2);
    const __m512i even = _mm512_shuffle_epi8(table, _mm512_and_si512(codes, low_nibble));
    const __m512i odd = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(codes, 4), low_nibble));
    for (int t = 0; t < TB; ++t) {
      const int64_t row = (t0 + t) * x.padded128 + g;
      const int64_t lane = (t0 + t) * lanes_per_token + g / 8;
      __m512i high = _mm512_dpbusd_epi32(_mm512_setzero_si512(), even, _mm512_loadu_si512(x.q8_high + row));
      high = _mm512_dpbusd_epi32(high, odd, _mm512_loadu_si512(x.q8_high + row + 64));
      __m512i low = _mm512_dpbusd_epi32(_mm512_loadu_si512(x.q8_lane_bias + lane), even, _mm512_loadu_si512(x.q8_low + row));
      low = _mm512_dpbusd_epi32(low, odd, _mm512_loadu_si512(x.q8_low + row + 64));
      const __m512i dot = _mm512_add_epi32(_mm512_slli_epi32(high, 8), low);
      const __m512 scale = _mm512_mul_ps(weight_scale, _mm512_loadu_ps(x.q8_lane_scale + lane));
      sums[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, sums[t]);
    }
  }
  for (int t = 0; t < TB; ++t) out[t * out_stride] = _mm512_reduce_add_ps(sums[t]);
}

// Decode (one token): two rows at a time, sharing the activation loads and the scale lanes, so
// the unpacking and products of one row overlap the other's.
void fp4_row_pair_vnni(const uint8_t* packed_a, const uint8_t* scales_a, const uint8_t* packed_b,
                       const uint8_t* scales_b, int64_t cols, const Activations& x, float* out_a, float* out_b) {
  const __m512i table = fp4_doubled_plus_12_table();
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  const __m512i lane_blocks = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  __m512 sum_a = _mm512_setzero_ps(), sum_b = _mm512_setzero_ps();
  __m512 block_scales_a = _mm512_setzero_ps(), block_scales_b = _mm512_setzero_ps();
  for (int64_t g = 0; g < cols; g += 128) {
    if (g % 512 == 0) {
      const int64_t blocks = min_index(16, (cols - g) / 32);
      const __mmask16 present = static_cast<__mmask16>((1u << blocks) - 1);
      block_scales_a = _mm512_castsi512_ps(
          _mm512_slli_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(present, scales_a + g / 32)), 23));
      block_scales_b = _mm512_castsi512_ps(
          _mm512_slli_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(present, scales_b + g / 32)), 23));
    }
    const __m512i pick = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>((g % 512) / 32)), lane_blocks);
    const int64_t bytes = (cols - g) / 2;
    _mm_prefetch(reinterpret_cast<const char*>(packed_a + g / 2 + kPrefetchBytes), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(packed_b + g / 2 + kPrefetchBytes), _MM_HINT_T0);
    const __mmask64 present = bytes >= 64 ? ~__mmask64{0} : (__mmask64{1} << bytes) - 1;
    const __m512i codes_a = _mm512_maskz_loadu_epi8(present, packed_a + g / 2);
    const __m512i codes_b = _mm512_maskz_loadu_epi8(present, packed_b + g / 2);
    const __m512i high_even = _mm512_loadu_si512(x.q8_high + g), high_odd = _mm512_loadu_si512(x.q8_high + g + 64);
    const __m512i low_even = _mm512_loadu_si512(x.q8_low + g), low_odd = _mm512_loadu_si512(x.q8_low + g + 64);
    const __m512i bias = _mm512_loadu_si512(x.q8_lane_bias + g / 8);
    const __m512 activation_scale = _mm512_loadu_ps(x.q8_lane_scale + g / 8);
    const __m512i even_a = _mm512_shuffle_epi8(table, _mm512_and_si512(codes_a, low_nibble));
    const __m512i odd_a = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(codes_a, 4), low_nibble));
    const __m512i even_b = _mm512_shuffle_epi8(table, _mm512_and_si512(codes_b, low_nibble));
    const __m512i odd_b = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(codes_b, 4), low_nibble));
    const __m512i high_a = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), even_a, high_even), odd_a, high_odd);
    const __m512i high_b = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), even_b, high_even), odd_b, high_odd);
    const __m512i low_a = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias, even_a, low_even), odd_a, low_odd);
    const __m512i low_b = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias, even_b, low_even), odd_b, low_odd);
    const __m512 scale_a = _mm512_mul_ps(_mm512_permutexvar_ps(pick, block_scales_a), activation_scale);
    const __m512 scale_b = _mm512_mul_ps(_mm512_permutexvar_ps(pick, block_scales_b), activation_scale);
    sum_a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(high_a, 8), low_a)), scale_a, sum_a);
    sum_b = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(high_b, 8), low_b)), scale_b, sum_b);
  }
  *out_a = _mm512_reduce_add_ps(sum_a);
  *out_b = _mm512_reduce_add_ps(sum_b);
}

void fp4_rows_vnni(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
                   int64_t y_stride) {
  const int64_t cols = w.cols;
  if (x.tokens == 1) {
    for_each_row_pair(
        row_begin, row_end,
        [&](int64_t a, int64_t b) {
          fp4_row_pair_vnni(w.weight.data + a * (cols / 2), w.scale.data + a * (cols / 32),
                            w.weight.data + b * (cols / 2), w.scale.data + b * (cols / 32), cols, x,
                            y + (a - row_begin), y + (b - row_begin));
        },
        [&](int64_t r) {
          fp4_row_vnni<1>(w.weight.data + r * (cols / 2), w.scale.data + r * (cols / 32), cols, x, 0,
                          y + (r - row_begin), y_stride);
        });
    return;
  }
  for_each_row_and_token_block<kTokenBlock>(row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto block) {
    fp4_row_vnni<decltype(block)::value>(w.weight.data + r * (cols / 2), w.scale.data + r * (cols / 32), cols, x, t,
                                         y + (r - row_begin) + t * y_stride, y_stride);
  });
}

// 16 FP8 e4m3 codes → float32 times 2^-8: sign-extend to 16 bits, shift the exponent and
// mantissa into half-precision position, clear the copy of the sign that lands in bit 14.
inline __m512 fp8_to_scaled_f32(__m128i codes) {
  const __m256i shifted = _mm256_slli_epi16(_mm256_cvtepi8_epi16(codes), 7);
  return _mm512_cvtph_ps(_mm256_and_si256(shifted, _mm256_set1_epi16(static_cast<short>(0xBFFF))));
}

inline __mmask16 tail_mask(int64_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
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
      const __mmask16 mask = tail_mask(end - c);
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

void fp8_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
              int64_t y_stride) {
  const int64_t cols = w.cols, scale_cols = (cols + 127) / 128;
  for_each_row_and_token_block<kTokenBlock>(row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto block) {
    fp8_row<decltype(block)::value>(w.weight.data + r * cols, w.scale.data + (r / 128) * scale_cols, cols, x, t,
                                    y + (r - row_begin) + t * y_stride, y_stride);
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

// One token: four FMA chains, so that the loop waits on loads rather than on FMA latency.
template <bool kBf16>
float float_row_single(const uint8_t* row, int64_t cols, const float* x) {
  constexpr int64_t kBytes = kBf16 ? 2 : 4;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t c = 0;
  for (; c + 64 <= cols; c += 64) {
    for (int64_t line = 0; line < 64 * kBytes; line += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(row + c * kBytes + line + kPrefetchBytes), _MM_HINT_T0);
    }
    s0 = _mm512_fmadd_ps(float_weights<kBf16>(row, c, 0xFFFF), _mm512_loadu_ps(x + c), s0);
    s1 = _mm512_fmadd_ps(float_weights<kBf16>(row, c + 16, 0xFFFF), _mm512_loadu_ps(x + c + 16), s1);
    s2 = _mm512_fmadd_ps(float_weights<kBf16>(row, c + 32, 0xFFFF), _mm512_loadu_ps(x + c + 32), s2);
    s3 = _mm512_fmadd_ps(float_weights<kBf16>(row, c + 48, 0xFFFF), _mm512_loadu_ps(x + c + 48), s3);
  }
  for (; c < cols; c += 16) {
    const __mmask16 mask = tail_mask(cols - c);
    s0 = _mm512_fmadd_ps(float_weights<kBf16>(row, c, mask), _mm512_maskz_loadu_ps(mask, x + c), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
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
    const __mmask16 mask = tail_mask(cols - c);
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

template <bool kBf16>
void float_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
                int64_t y_stride) {
  const int64_t cols = w.cols;
  const int64_t row_bytes = cols * (kBf16 ? 2 : 4);
  for_each_row_and_token_block<kTokenBlock>(row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto block) {
    float_row<decltype(block)::value, kBf16>(w.weight.data + r * row_bytes, cols, x, t,
                                             y + (r - row_begin) + t * y_stride, y_stride);
  });
}

}  // namespace

const KernelTable& avx512_kernels() {
  static const KernelTable table = {fp4_rows_vnni, fp8_rows, float_rows<true>, float_rows<false>};
  return table;
}

}  // namespace lightseek::fast_kernels

#else  // not x86-64: never selected
namespace lightseek::fast_kernels {
const KernelTable& avx512_kernels() { return scalar_kernels(); }
}  // namespace lightseek::fast_kernels
#endif

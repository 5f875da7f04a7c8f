// FP8 matrix-vector products on AVX512-BF16: each e4m3 code becomes a bf16 by shifting its bits
// (three instructions for 32 codes, against eight through IEEE half), and vdpbf16ps multiplies
// 32 pairs at once. The activations are carried as two bf16 parts (x·2^64 ≈ high + low, 16
// significant bits). Compiled for AVX-512 + BF16 alone; used only where cpu_supports(Isa::Amx),
// which requires AVX512-BF16. FP8 subnormals (|code| < 2^-6, under 1/28000 of the block's
// largest value) read as bf16 subnormals, which vdpbf16ps takes as zero.
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__) && defined(__AVX512BF16__)
#include <immintrin.h>

namespace lightseek::fast_kernels {
namespace {

constexpr int kTokenBlock = 4;

// 32 e4m3 codes → bf16 with value code·2^-120: sign-extend to 16 bits, move exponent and
// mantissa down into bf16 position, keep the sign bit and those seven bits.
inline __m512bh fp8_to_bf16_bits(const uint8_t* codes) {
  const __m512i wide = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes)));
  return reinterpret_cast<__m512bh>(
      _mm512_and_si512(_mm512_slli_epi16(wide, 4), _mm512_set1_epi16(static_cast<short>(0x87F0))));
}

// 2^(120 − 64): undoes the bf16 exponent offset of the codes and the activations' 2^64.
constexpr float kBf16Correction = 72057594037927936.0f;  // 2^56

template <int TB>
void fp8_row(const uint8_t* codes, const uint8_t* scales, int64_t cols, const Activations& x, int64_t t0, float* out,
             int64_t out_stride) {
  // A single token gets one accumulator pair per 32-column step, so that consecutive
  // vdpbf16ps do not wait for each other; blocks of tokens are independent already.
  constexpr int kChains = TB == 1 ? 4 : 1;
  __m512 sums[TB];
  for (int t = 0; t < TB; ++t) sums[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < cols; b += 128) {
    __m512 high[TB * kChains], low[TB * kChains];
    for (int i = 0; i < TB * kChains; ++i) high[i] = low[i] = _mm512_setzero_ps();
    for (int step = 0; step < 4; ++step) {
      const int64_t c = b + step * 32;
      _mm_prefetch(reinterpret_cast<const char*>(codes + c + kPrefetchBytes), _MM_HINT_T0);
      const __m512bh weights = fp8_to_bf16_bits(codes + c);
      for (int t = 0; t < TB; ++t) {
        const int64_t offset = (t0 + t) * x.padded_cols + c;
        const int i = t * kChains + step % kChains;
        high[i] = _mm512_dpbf16_ps(high[i], weights, reinterpret_cast<__m512bh>(_mm512_loadu_si512(x.bf16_high + offset)));
        low[i] = _mm512_dpbf16_ps(low[i], weights, reinterpret_cast<__m512bh>(_mm512_loadu_si512(x.bf16_low + offset)));
      }
    }
    const __m512 scale = _mm512_set1_ps(fast_e8m0(scales[b / 128]) * kBf16Correction);
    for (int t = 0; t < TB; ++t) {
      __m512 block = _mm512_add_ps(high[t * kChains], low[t * kChains]);
      for (int k = 1; k < kChains; ++k) block = _mm512_add_ps(block, _mm512_add_ps(high[t * kChains + k], low[t * kChains + k]));
      sums[t] = _mm512_fmadd_ps(block, scale, sums[t]);
    }
  }
  for (int t = 0; t < TB; ++t) out[t * out_stride] = _mm512_reduce_add_ps(sums[t]);
}

// Decode (one token): two rows at a time sharing the activation loads; each row's two
// accumulator pairs alternate by step, so consecutive vdpbf16ps do not wait for each other.
void fp8_row_pair(const uint8_t* codes_a, const uint8_t* scales_a, const uint8_t* codes_b, const uint8_t* scales_b,
                  int64_t cols, const Activations& x, float* out_a, float* out_b) {
  __m512 sum_a = _mm512_setzero_ps(), sum_b = _mm512_setzero_ps();
  for (int64_t b = 0; b < cols; b += 128) {
    __m512 high_a[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()}, low_a[2] = {high_a[0], high_a[0]};
    __m512 high_b[2] = {high_a[0], high_a[0]}, low_b[2] = {high_a[0], high_a[0]};
    for (int step = 0; step < 4; ++step) {
      const int64_t c = b + step * 32;
      _mm_prefetch(reinterpret_cast<const char*>(codes_a + c + kPrefetchBytes), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(codes_b + c + kPrefetchBytes), _MM_HINT_T0);
      const __m512bh high = reinterpret_cast<__m512bh>(_mm512_loadu_si512(x.bf16_high + c));
      const __m512bh low = reinterpret_cast<__m512bh>(_mm512_loadu_si512(x.bf16_low + c));
      const __m512bh weights_a = fp8_to_bf16_bits(codes_a + c), weights_b = fp8_to_bf16_bits(codes_b + c);
      high_a[step % 2] = _mm512_dpbf16_ps(high_a[step % 2], weights_a, high);
      low_a[step % 2] = _mm512_dpbf16_ps(low_a[step % 2], weights_a, low);
      high_b[step % 2] = _mm512_dpbf16_ps(high_b[step % 2], weights_b, high);
      low_b[step % 2] = _mm512_dpbf16_ps(low_b[step % 2], weights_b, low);
    }
    const __m512 block_a = _mm512_add_ps(_mm512_add_ps(high_a[0], low_a[0]), _mm512_add_ps(high_a[1], low_a[1]));
    const __m512 block_b = _mm512_add_ps(_mm512_add_ps(high_b[0], low_b[0]), _mm512_add_ps(high_b[1], low_b[1]));
    sum_a = _mm512_fmadd_ps(block_a, _mm512_set1_ps(fast_e8m0(scales_a[b / 128]) * kBf16Correction), sum_a);
    sum_b = _mm512_fmadd_ps(block_b, _mm512_set1_ps(fast_e8m0(scales_b[b / 128]) * kBf16Correction), sum_b);
  }
  *out_a = _mm512_reduce_add_ps(sum_a);
  *out_b = _mm512_reduce_add_ps(sum_b);
}

void fp8_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
              int64_t y_stride) {
  const int64_t cols = w.cols, scale_cols = cols / 128;
  if (x.tokens == 1) {
    for_each_row_pair(
        row_begin, row_end,
        [&](int64_t a, int64_t b) {
          fp8_row_pair(w.weight.data + a * cols, w.scale.data + (a / 128) * scale_cols, w.weight.data + b * cols,
                       w.scale.data + (b / 128) * scale_cols, cols, x, y + (a - row_begin), y + (b - row_begin));
        },
        [&](int64_t r) {
          fp8_row<1>(w.weight.data + r * cols, w.scale.data + (r / 128) * scale_cols, cols, x, 0, y + (r - row_begin),
                     y_stride);
        });
    return;
  }
  for_each_row_and_token_block<kTokenBlock>(row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto block) {
    fp8_row<decltype(block)::value>(w.weight.data + r * cols, w.scale.data + (r / 128) * scale_cols, cols, x, t,
                                    y + (r - row_begin) + t * y_stride, y_stride);
  });
}

}  // namespace

RowsKernel avx512_bf16_fp8_kernel() { return fp8_rows; }

void split_bf16_activations(const float* x, int64_t tokens, int64_t cols, int64_t padded, uint16_t* high,
                            uint16_t* low) {
  const __m512 offset = _mm512_set1_ps(18446744073709551616.0f);  // 2^64
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t c = 0; c < padded; c += 32) {
      const int64_t remaining = cols - c;
      const __mmask16 m0 = remaining >= 16 ? 0xFFFF : remaining > 0 ? static_cast<__mmask16>((1u << remaining) - 1) : 0;
      const __mmask16 m1 = remaining >= 32 ? 0xFFFF : remaining > 16 ? static_cast<__mmask16>((1u << (remaining - 16)) - 1) : 0;
      const __m512 a = _mm512_mul_ps(_mm512_maskz_loadu_ps(m0, x + t * cols + c), offset);
      const __m512 b = _mm512_mul_ps(_mm512_maskz_loadu_ps(m1, x + t * cols + c + 16), offset);
      const __m512i rounded = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
      const __m512 a_back = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(rounded)), 16));
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
void split_bf16_activations(const float*, int64_t, int64_t, int64_t, uint16_t*, uint16_t*) {}
}  // namespace lightseek::fast_kernels
#endif

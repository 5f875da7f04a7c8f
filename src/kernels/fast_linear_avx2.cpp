// AVX2 + FMA + F16C kernels of fast_linear. Built with those instruction sets enabled for this
// file only; called only where cpu_supports(Isa::Avx2).
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "core/number_formats.h"
#include "kernels/avx2_conversions.h"

namespace lightseek::fast_kernels {
namespace {

constexpr int kTokenBlock = 4;

// FP4 for up to 4 tokens: 64-column chunks (two scale blocks) on bytes. The codes + 12 are
// unsigned bytes and the activations int8 high and low parts (Activations::q8_*, 64-column
// groups), so vpmaddubsw multiplies 32 columns at once without widening the weights, and the
// decoding of each chunk serves every token of the block. A chunk's int32 lanes each cover 8
// consecutive columns (lanes 0–3 its first block, 4–7 its second); three vphaddd fold four
// chunks into one block sum per lane, in hadd_block_position's order, so that the bias that
// undoes the +12, the conversion and the scaling happen once per 256 columns rather than once
// per 64. (The per-chunk tail was 8 of ~23 instructions, and with the weights in cache one
// token's product ran at 7.4–8.5 GB/s a thread, about what one core reads from memory; now
// 8.3–9.6.)
template <int T>
void fp4_tokens(const uint8_t* packed, const uint8_t* scales, int64_t cols, const Activations& x, int64_t t0,
                float* out, int64_t out_stride) {
  const __m256i table = _mm256_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0, 12, 13, 14, 15,
                                         16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0);
  const __m256i low = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1), high_weight = _mm256_set1_epi16(256);
  const __m128i scale_order = _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, -1, -1, -1, -1, -1, -1, -1, -1);
  const auto load = [](const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); };
  const int64_t block_stride = x.padded256 / 32;
  __m256 sums[T];
  for (int t = 0; t < T; ++t) sums[t] = _mm256_setzero_ps();
  // Each token's int32 sums of chunk c's 8 lanes, zero past the whole chunks.
  const auto chunk_dots = [&](int64_t c, int64_t whole, __m256i (&dot)[T]) {
    if (c >= whole) {
      for (int t = 0; t < T; ++t) dot[t] = _mm256_setzero_si256();
      return;
    }
    if (c % 128 == 0) _mm_prefetch(reinterpret_cast<const char*>(packed + c / 2 + kPrefetchBytes), _MM_HINT_T0);
    const __m256i bytes = load(packed + c / 2);
    const __m256i even = _mm256_shuffle_epi8(table, _mm256_and_si256(bytes, low));
    const __m256i odd = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low));
    for (int t = 0; t < T; ++t) {
      const int64_t row = (t0 + t) * x.padded128 + c;
      // |pair| ≤ 2·24·128, two of them still fit int16.
      const __m256i high_dot = _mm256_add_epi16(_mm256_maddubs_epi16(even, load(x.q8_high + row)),
                                                _mm256_maddubs_epi16(odd, load(x.q8_high + row + 32)));
      const __m256i low_dot = _mm256_add_epi16(_mm256_maddubs_epi16(even, load(x.q8_low + row)),
                                               _mm256_maddubs_epi16(odd, load(x.q8_low + row + 32)));
      dot[t] = _mm256_add_epi32(_mm256_madd_epi16(high_dot, high_weight), _mm256_madd_epi16(low_dot, ones));
    }
  };
  const int64_t whole = cols / 64 * 64;
  for (int64_t c = 0; c < whole; c += 256) {
    __m256i first[T], second[T], pair01[T];
    chunk_dots(c, whole, first);
    chunk_dots(c + 64, whole, second);
    for (int t = 0; t < T; ++t) pair01[t] = _mm256_hadd_epi32(first[t], second[t]);
    chunk_dots(c + 128, whole, first);
    chunk_dots(c + 192, whole, second);
    // The group's 8 block scales in hadd_block_position's order; a last partial group reads
    // only its own.
    __m128i scale_bytes;
    if (c + 256 <= cols) {
      scale_bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales + c / 32));
    } else {
      uint8_t tail[8] = {};
      std::memcpy(tail, scales + c / 32, static_cast<size_t>((whole - c) / 32));
      scale_bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(tail));
    }
    const __m256 weight_scale = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu8_epi32(_mm_shuffle_epi8(scale_bytes, scale_order)), 23));
    for (int t = 0; t < T; ++t) {
      const int64_t block = (t0 + t) * block_stride + c / 32;
      const __m256i dot = _mm256_add_epi32(
          _mm256_hadd_epi32(pair01[t], _mm256_hadd_epi32(first[t], second[t])), load(x.q8_block_bias + block));
      const __m256 scale = _mm256_mul_ps(weight_scale, _mm256_loadu_ps(x.q8_block_scale + block));
      sums[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, sums[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    float total = horizontal_sum(sums[t]);
    const int16_t* q = x.q + (t0 + t) * x.padded_cols;
    for (int64_t b = whole; b < cols; b += 32) {  // a last lone block of 32
      int32_t dot = 0;
      for (int64_t k = b; k < b + 32; ++k) dot += kFp4DoubledCodes[fp4_nibble_at(packed, k)] * q[q_position(k)];
      total += fast_e8m0(scales[b / 32]) * x.q_scale[(t0 + t) * (x.padded_cols / 4) + b / 4] * static_cast<float>(dot);
    }
    out[t * out_stride] = total;
  }
}

void fp4_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
              int64_t y_stride) {
  const int64_t cols = w.cols;
  for_each_row_and_token_block<kTokenBlock>(row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto block) {
    fp4_tokens<decltype(block)::value>(w.weight.data + r * (cols / 2), w.scale.data + r * (cols / 32), cols, x, t,
                                       y + (r - row_begin) + t * y_stride, y_stride);
  });
}

template <int TB>
void fp8_row(const uint8_t* codes, const uint8_t* scales, int64_t cols, const Activations& x, int64_t t0, float* out,
             int64_t out_stride) {
  float totals[TB] = {};
  for (int64_t b = 0; b < cols; b += 128) {
    const int64_t end = min_index(cols, b + 128);
    __m256 block[TB];
    for (int t = 0; t < TB; ++t) block[t] = _mm256_setzero_ps();
    int64_t c = b;
    for (; c + 8 <= end; c += 8) {
      if (c % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(codes + c + kPrefetchBytes), _MM_HINT_T0);
      const __m256 weights = fp8x8_as_f32_tiny(codes + c);
      for (int t = 0; t < TB; ++t) {
        block[t] = _mm256_fmadd_ps(weights, _mm256_loadu_ps(x.f32_scaled + (t0 + t) * cols + c), block[t]);
      }
    }
    const float scale = fast_e8m0(scales[b / 128]);
    for (int t = 0; t < TB; ++t) {
      float partial = horizontal_sum(block[t]) * x.fp8_tiny_correction[0] * x.fp8_tiny_correction[1];
      for (int64_t k = c; k < end; ++k) partial += fp8_e4m3_to_f32(codes[k]) * x.f32[(t0 + t) * cols + k];
      totals[t] += scale * partial;
    }
  }
  for (int t = 0; t < TB; ++t) out[t * out_stride] = totals[t];
}

// One token: a whole 128-column block per step in four FMA chains, each code put straight into
// float32's bits (fp8x8_as_f32_tiny) against activations scaled up (Activations::f32_scaled), so
// that no product underflows. Through IEEE half, 16 codes took 10 micro-ops on Zen 3 (vcvtph2ps
// is two, plus an extract), now 8: a 64×4096 matrix in L2 went from 10.9 to 14.6 GB/s. At 10.9
// the kernel computed no faster than one core reads memory, and the two overlapped badly (6–7
// GB/s from memory).
float fp8_dot_one_token(const uint8_t* codes, const uint8_t* scales, int64_t cols, const Activations& activations,
                        int64_t token) {
  const float* x = activations.f32 + token * cols;
  const float* x_scaled = activations.f32_scaled + token * cols;
  const __m256 correction = _mm256_set1_ps(activations.fp8_tiny_correction[0]);
  __m256 total = _mm256_setzero_ps();
  float tail = 0.0f;
  for (int64_t b = 0; b < cols; b += 128) {
    const int64_t end = min_index(cols, b + 128);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t c = b;
    if (end - b == 128) {  // a whole block in straight-line code: no branches among its 16 steps
      _mm_prefetch(reinterpret_cast<const char*>(codes + b + kPrefetchBytes), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(codes + b + 64 + kPrefetchBytes), _MM_HINT_T0);
      for (int step = 0; step < 16; ++step) {
        acc[step % 4] = _mm256_fmadd_ps(fp8x8_as_f32_tiny(codes + b + step * 8),
                                        _mm256_loadu_ps(x_scaled + b + step * 8), acc[step % 4]);
      }
      c = end;
    }
    for (; c + 8 <= end; c += 8) {
      acc[0] = _mm256_fmadd_ps(fp8x8_as_f32_tiny(codes + c), _mm256_loadu_ps(x_scaled + c), acc[0]);
    }
    const float scale = fast_e8m0(scales[b / 128]);
    const __m256 block = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    // The block scale, then one correction factor, the other at the end: the scale and the whole
    // correction multiplied together need not fit float32.
    total = _mm256_fmadd_ps(_mm256_mul_ps(block, _mm256_set1_ps(scale)), correction, total);
    for (; c < end; ++c) tail += scale * (fp8_e4m3_to_f32(codes[c]) * x[c]);
  }
  return horizontal_sum(total) * activations.fp8_tiny_correction[1] + tail;
}

void fp8_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
              int64_t y_stride) {
  const int64_t cols = w.cols, scale_cols = (cols + 127) / 128;
  for_each_row_and_token_block<kTokenBlock>(row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto block) {
    const uint8_t* codes = w.weight.data + r * cols;
    const uint8_t* scales = w.scale.data + (r / 128) * scale_cols;
    if constexpr (decltype(block)::value == 1) {
      y[(r - row_begin) + t * y_stride] = fp8_dot_one_token(codes, scales, cols, x, t);
    } else {
      fp8_row<decltype(block)::value>(codes, scales, cols, x, t, y + (r - row_begin) + t * y_stride, y_stride);
    }
  });
}


template <int TB, bool kBf16>
void float_row(const uint8_t* row, int64_t cols, const Activations& x, int64_t t0, float* out, int64_t out_stride) {
  __m256 sums[TB];
  for (int t = 0; t < TB; ++t) sums[t] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 weights;
    if constexpr (kBf16) {
      weights = bf16x8_to_f32(row + c * 2);
    } else {
      weights = _mm256_loadu_ps(reinterpret_cast<const float*>(row + c * 4));
    }
    for (int t = 0; t < TB; ++t) {
      sums[t] = _mm256_fmadd_ps(weights, _mm256_loadu_ps(x.f32 + (t0 + t) * cols + c), sums[t]);
    }
  }
  for (int t = 0; t < TB; ++t) {
    float total = horizontal_sum(sums[t]);
    for (int64_t k = c; k < cols; ++k) total += stored_value<kBf16>(row, k) * x.f32[(t0 + t) * cols + k];
    out[t * out_stride] = total;
  }
}

// R rows of BF16 weights for one token, side by side (the LM head, the router): each row's sums
// in the same order whatever R (the same bits), and R weight streams in flight where the kernel
// used to read one row at a time. The LM head (129280 × 4096) from memory on the Zen 3 VM, one
// thread: in a harness, medians of 8 alternated passes, one row at a time 10.9–11.1 GB/s, two
// rows from the two halves of the range 13.7–13.8 (two adjacent rows 12.2–12.8); in a decode at
// 2K, alternated token by token, one row → two rows 215 → 193 and 203 → 179 ms per token (two
// threads 120 → 110, 114 → 108), two → four rows 177 → 169 and 162 → 154 (118 → 116, 99 → 97).
// Four rows hold 16 accumulators, more than AVX2's registers: two chains a row instead measured
// the same (169 and 142 ms both ways).
template <int R>
void bf16_rows_one_token(const RowGroup<R>& rows, const uint8_t* weights, int64_t cols, const float* x, float* out) {
  const uint8_t* row[R];
  for (int r = 0; r < R; ++r) row[r] = weights + rows.row[r] * cols * 2;
  __m256 acc[R][4];
  for (int r = 0; r < R; ++r) {
    for (int part = 0; part < 4; ++part) acc[r][part] = _mm256_setzero_ps();
  }
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    for (int r = 0; r < R; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(row[r] + c * 2 + kPrefetchBytes), _MM_HINT_T0);
    }
    for (int part = 0; part < 4; ++part) {
      const __m256 activations = _mm256_loadu_ps(x + c + part * 8);
      for (int r = 0; r < R; ++r) {
        acc[r][part] = _mm256_fmadd_ps(bf16x8_to_f32(row[r] + (c + part * 8) * 2), activations, acc[r][part]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    int64_t k = c;
    for (; k + 8 <= cols; k += 8) {
      acc[r][0] = _mm256_fmadd_ps(bf16x8_to_f32(row[r] + k * 2), _mm256_loadu_ps(x + k), acc[r][0]);
    }
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(acc[r][0], acc[r][1]), _mm256_add_ps(acc[r][2], acc[r][3]));
    float total = horizontal_sum(sum);
    for (; k < cols; ++k) total += stored_value<true>(row[r], k) * x[k];
    out[r] = total;
  }
}

template <bool kBf16>
void float_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
                int64_t y_stride) {
  const int64_t cols = w.cols;
  const int64_t row_bytes = cols * (kBf16 ? 2 : 4);
  const uint8_t* weights = w.weight.data;
  if constexpr (kBf16) {
    if (x.tokens == 1) {
      for_each_row_group<4>(
          row_begin, row_end, y,
          [&](const RowGroup<4>& rows, float* out) { bf16_rows_one_token<4>(rows, weights, cols, x.f32, out); },
          [&](int64_t r) { bf16_rows_one_token<1>(RowGroup<1>{{r}}, weights, cols, x.f32, y + (r - row_begin)); });
      return;
    }
  }
  for_each_row_and_token_block<kTokenBlock>(row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto block) {
    if constexpr (kBf16 && decltype(block)::value == 1) {
      bf16_rows_one_token<1>(RowGroup<1>{{r}}, weights, cols, x.f32 + t * cols, y + (r - row_begin) + t * y_stride);
    } else {
      float_row<decltype(block)::value, kBf16>(weights + r * row_bytes, cols, x, t,
                                               y + (r - row_begin) + t * y_stride, y_stride);
    }
  });
}

}  // namespace

void avx2_scale_for_fp8_codes(const float* x, int64_t count, float* scaled, float correction[2]) {
  const __m256 magnitude_bits = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 amax8 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) amax8 = _mm256_max_ps(amax8, _mm256_and_ps(_mm256_loadu_ps(x + i), magnitude_bits));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, amax8);
  float amax = 0.0f;
  for (float lane : lanes) amax = amax > lane ? amax : lane;
  for (; i < count; ++i) amax = amax > __builtin_fabsf(x[i]) ? amax : __builtin_fabsf(x[i]);
  const Fp8CodeScaling scaling = fp8_code_scaling(amax);
  const float factor = __builtin_ldexpf(1.0f, scaling.exponent);
  const __m256 factor8 = _mm256_set1_ps(factor);
  for (i = 0; i + 8 <= count; i += 8) _mm256_storeu_ps(scaled + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), factor8));
  for (; i < count; ++i) scaled[i] = x[i] * factor;
  correction[0] = scaling.correction[0];
  correction[1] = scaling.correction[1];
}

const KernelTable& avx2_kernels() {
  static const KernelTable table = {fp4_rows, fp8_rows, float_rows<true>, float_rows<false>};
  return table;
}

}  // namespace lightseek::fast_kernels

#else
namespace lightseek::fast_kernels {
const KernelTable& avx2_kernels() { return scalar_kernels(); }
void avx2_scale_for_fp8_codes(const float*, int64_t, float*, float[2]) {}
}  // namespace lightseek::fast_kernels
#endif

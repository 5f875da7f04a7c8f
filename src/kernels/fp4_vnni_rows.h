// The FP4 × int8 VNNI kernels of fast_linear, shared by the AVX-512 files: included only by files
// compiled for AVX-512 F/BW/VL/DQ + VNNI (fast_linear_avx512.cpp), and with kVbmi by those also
// compiled for AVX512-VBMI (fast_fp4_avx512bf16.cpp). Each includer gets its own copies.
#pragma once

#include <immintrin.h>

#include "kernels/fast_linear_kernels.h"

namespace lightseek::fast_kernels {
namespace {

// Doubled FP4 values plus 12 by code (so that they are unsigned bytes), repeated in each 16-byte
// lane: vpshufb looks up a masked nibble, vpermb any 6-bit index whose low 4 bits are the nibble.
inline __m512i fp4_doubled_plus_12_table() {
  return _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
}

// The table's values for the low (even column) and high (odd column) nibbles of 64 code bytes.
// vpermb ignores the index bits above the sixth, so with VBMI neither half needs masking: two
// instructions fewer per 64 bytes (one-token FP4 2048×4096 with the weights in cache, one
// thread: 37 → 42 GB/s).
template <bool kVbmi>
inline void fp4_unpack(__m512i codes, __m512i table, __m512i& even, __m512i& odd) {
  if constexpr (kVbmi) {
    even = _mm512_permutexvar_epi8(codes, table);
    odd = _mm512_permutexvar_epi8(_mm512_srli_epi16(codes, 4), table);
  } else {
    const __m512i low_nibble = _mm512_set1_epi8(0x0F);
    even = _mm512_shuffle_epi8(table, _mm512_and_si512(codes, low_nibble));
    odd = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(codes, 4), low_nibble));
  }
}

// FP4 × int8 pairs with vpdpbusd: 128 columns per step, four vpdpbusd per token where the int16
// kernel needs twice the unpacking work. (w + 12)·(256·high + low) summed per lane, plus the
// lane's −12·Σx, is exactly the int16 kernel's integer dot product. RB consecutive rows and TB
// tokens at a time: each row's codes are unpacked once for TB tokens, and each token's
// activations loaded once for RB rows (with one row, 32 tokens re-read their 256 KiB of
// activations from L2 for every row).
template <int RB, int TB, bool kVbmi>
void fp4_block_vnni(const uint8_t* packed, const uint8_t* scales, int64_t cols, const Activations& x, int64_t t0,
                    float* out, int64_t out_stride) {
  const __m512i table = fp4_doubled_plus_12_table();
  const __m512i lane_blocks = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const int64_t lanes_per_token = x.padded128 / 8;
  __m512 sums[RB][TB];
  __m512 block_scales[RB];
  for (int r = 0; r < RB; ++r) {
    block_scales[r] = _mm512_setzero_ps();
    for (int t = 0; t < TB; ++t) sums[r][t] = _mm512_setzero_ps();
  }
  for (int64_t g = 0; g < cols; g += 128) {
    if (g % 512 == 0) {  // 16 blocks share one scale load
      const int64_t blocks = min_index(16, (cols - g) / 32);
      const __mmask16 present = static_cast<__mmask16>((1u << blocks) - 1);
      for (int r = 0; r < RB; ++r) {
        const __m128i codes = _mm_maskz_loadu_epi8(present, scales + r * (cols / 32) + g / 32);
        block_scales[r] = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu8_epi32(codes), 23));
      }
    }
    // Lane i of this group belongs to block (g % 512) / 32 + i / 4.
    const __m512i pick = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>((g % 512) / 32)), lane_blocks);
    const int64_t bytes = (cols - g) / 2;
    const __mmask64 present = bytes >= 64 ? ~__mmask64{0} : (__mmask64{1} << bytes) - 1;
    __m512i even[RB], odd[RB];
    __m512 weight_scale[RB];
    for (int r = 0; r < RB; ++r) {
      const uint8_t* row = packed + r * (cols / 2);
      _mm_prefetch(reinterpret_cast<const char*>(row + g / 2 + kPrefetchBytes), _MM_HINT_T0);
      fp4_unpack<kVbmi>(_mm512_maskz_loadu_epi8(present, row + g / 2), table, even[r], odd[r]);
      weight_scale[r] = _mm512_permutexvar_ps(pick, block_scales[r]);
    }
    for (int t = 0; t < TB; ++t) {
      const int64_t offset = (t0 + t) * x.padded128 + g;
      const int64_t lane = (t0 + t) * lanes_per_token + g / 8;
      const __m512i high_even = _mm512_loadu_si512(x.q8_high + offset);
      const __m512i high_odd = _mm512_loadu_si512(x.q8_high + offset + 64);
      const __m512i low_even = _mm512_loadu_si512(x.q8_low + offset);
      const __m512i low_odd = _mm512_loadu_si512(x.q8_low + offset + 64);
      const __m512i bias = _mm512_loadu_si512(x.q8_lane_bias + lane);
      const __m512 activation_scale = _mm512_loadu_ps(x.q8_lane_scale + lane);
      for (int r = 0; r < RB; ++r) {
        const __m512i high =
            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), even[r], high_even), odd[r], high_odd);
        const __m512i low = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias, even[r], low_even), odd[r], low_odd);
        const __m512i dot = _mm512_add_epi32(_mm512_slli_epi32(high, 8), low);
        sums[r][t] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(weight_scale[r], activation_scale), sums[r][t]);
      }
    }
  }
  for (int r = 0; r < RB; ++r) {
    for (int t = 0; t < TB; ++t) out[r + t * out_stride] = _mm512_reduce_add_ps(sums[r][t]);
  }
}

// Decode (one token): kDecodeStreams rows at a time, one from each part of the range, sharing the
// activation loads and scale lanes. One thread keeps too few cache misses in flight with two
// weight streams: cold FP4 2048×4096, one thread, 13–16 GB/s with two streams (or three), 26–29
// with four, 22–25 with six or eight, against 40 GB/s read by a plain loop.
inline constexpr int kDecodeStreams = 4;
// With the block scales prefetched too (below), cold FP4 2048×4096 on one thread: 768 B ahead
// 32.9–33.0 GB/s, 1 KiB 33.4–33.5, 1.5 KiB 34.7–35.1, 2 KiB 34.7–35.8, 3 KiB 35.2–35.9, 4 KiB
// 33.6–34.0. A one-thread decode's experts at 2K: 1 KiB 12.0–13.3 ms, 1.5 KiB 11.8–12.0, 2 KiB
// 11.6–12.3, 3 KiB 11.8–12.4, 4 KiB 12.1–12.3. (Without the scales' prefetch, 1 KiB measured
// best: experts 13.4–14.3 ms against 13.9–14.4 at 2 KiB.)
inline constexpr int64_t kDecodePrefetchBytes = 2048;
// Each stream's block scales are prefetched this many rows ahead. Cold FP4 2048×4096, one
// thread: 30.4–30.6 GB/s without, 33.0–33.4 at 1 row, 32.8–33.7 at 2, 32.8–33.0 at 3, 32.2–32.6
// at 8; a one-thread decode's experts at 2K: 12.8 → 11.9–12.0 ms at 2 rows (3 runs each).
inline constexpr int64_t kDecodeScalePrefetchRows = 2;

// Its own loop rather than fp4_block_vnni<4, 1> on the group's rows: that one unpacks all four
// rows before their products, keeping more registers live. With it, the experts of a one-thread
// decode at 2K took 14.1–15.4 ms (median 14.4 of 6) against 13.5–14.2 (median 13.7 of 5), with
// the same results bit for bit.
template <bool kVbmi>
void fp4_row_group_vnni(const RowGroup<kDecodeStreams>& rows, const WeightMatrix& w, const Activations& x, float* y) {
  constexpr int R = kDecodeStreams;
  const int64_t cols = w.cols;
  const __m512i table = fp4_doubled_plus_12_table();
  const __m512i lane_blocks = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const uint8_t* packed[R];
  const uint8_t* scales[R];
  __m512 sums[R], block_scales[R];
  for (int r = 0; r < R; ++r) {
    packed[r] = w.weight.data + rows.row[r] * (cols / 2);
    scales[r] = w.scale.data + rows.row[r] * (cols / 32);
    sums[r] = block_scales[r] = _mm512_setzero_ps();
  }
  // The scales are a stream of their own (a row's 128 B at 4096 columns), which nothing else
  // prefetches.
  for (int r = 0; r < R; ++r) {
    const uint8_t* ahead = scales[r] + kDecodeScalePrefetchRows * (cols / 32);
    for (int64_t b = 0; b < cols / 32; b += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + b), _MM_HINT_T0);
  }
  for (int64_t g = 0; g < cols; g += 128) {
    if (g % 512 == 0) {
      const int64_t blocks = min_index(16, (cols - g) / 32);
      const __mmask16 present = static_cast<__mmask16>((1u << blocks) - 1);
      for (int r = 0; r < R; ++r) {
        block_scales[r] = _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(present, scales[r] + g / 32)), 23));
      }
    }
    const __m512i pick = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>((g % 512) / 32)), lane_blocks);
    const int64_t bytes = (cols - g) / 2;
    const __mmask64 present = bytes >= 64 ? ~__mmask64{0} : (__mmask64{1} << bytes) - 1;
    const __m512i high_even = _mm512_loadu_si512(x.q8_high + g), high_odd = _mm512_loadu_si512(x.q8_high + g + 64);
    const __m512i low_even = _mm512_loadu_si512(x.q8_low + g), low_odd = _mm512_loadu_si512(x.q8_low + g + 64);
    const __m512i bias = _mm512_loadu_si512(x.q8_lane_bias + g / 8);
    const __m512 activation_scale = _mm512_loadu_ps(x.q8_lane_scale + g / 8);
    for (int r = 0; r < R; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(packed[r] + g / 2 + kDecodePrefetchBytes), _MM_HINT_T0);
      __m512i even, odd;
      fp4_unpack<kVbmi>(_mm512_maskz_loadu_epi8(present, packed[r] + g / 2), table, even, odd);
      const __m512i high =
          _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), even, high_even), odd, high_odd);
      const __m512i low = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias, even, low_even), odd, low_odd);
      const __m512 scale = _mm512_mul_ps(_mm512_permutexvar_ps(pick, block_scales[r]), activation_scale);
      sums[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(high, 8), low)), scale, sums[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = _mm512_reduce_add_ps(sums[r]);
}

template <bool kVbmi>
void fp4_rows_vnni(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
                   int64_t y_stride) {
  // Tokens that share one unpacking of a weight chunk, and rows that share the activation loads.
  // FP4 2048×4096, one thread, at 4 / 12 / 32 / 256 tokens: 83–85 / 109–126 / 131 / 131 GFLOP/s
  // with 2 rows, 150 / 176 / 179 / 178 with 4; 6 rows is no faster at 12 tokens and leaves rows
  // over in every 16-row piece. One row at a time: 70–76 GFLOP/s.
  constexpr int kTokenBlock = 4, kRowBlock = 4;
  const int64_t cols = w.cols;
  if (x.tokens == 1) {
    for_each_row_group<kDecodeStreams>(
        row_begin, row_end, y,
        [&](const RowGroup<kDecodeStreams>& rows, float* out) { fp4_row_group_vnni<kVbmi>(rows, w, x, out); },
        [&](int64_t r) {
          fp4_block_vnni<1, 1, kVbmi>(w.weight.data + r * (cols / 2), w.scale.data + r * (cols / 32), cols, x, 0,
                                      y + (r - row_begin), y_stride);
        });
    return;
  }
  for_each_row_block_and_token_block<kRowBlock, kTokenBlock>(
      row_begin, row_end, x.tokens, [&](int64_t r, int64_t t, auto rows, auto tokens) {
        fp4_block_vnni<decltype(rows)::value, decltype(tokens)::value, kVbmi>(
            w.weight.data + r * (cols / 2), w.scale.data + r * (cols / 32), cols, x, t,
            y + (r - row_begin) + t * y_stride, y_stride);
      });
}

}  // namespace
}  // namespace lightseek::fast_kernels

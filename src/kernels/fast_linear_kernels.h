// The per-ISA inner kernels behind fast_linear (internal to the kernels layer). Every ISA
// implements the same arithmetic; the scalar one is the definition the others are tested against.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

#include "core/number_formats.h"
#include "core/weight_matrix.h"

namespace lightseek::fast_kernels {

// Input rows prepared once per call and shared by all threads.
//
// For FP4 weights the rows are also quantised to int16 in blocks of 32 (scale amax/kQuantMax: the
// products are exact integers and the rounding is below float32's own on the sums). Doubled FP4
// codes are the integers {0, ±1, ±2, ±3, ±4, ±6, ±8, ±12}. Each 64-column chunk is stored as
// [evens of block 0, evens of block 1, odds of block 0, odds of block 1] (16 each), the order in
// which a SIMD register of unpacked nibbles holds the matching weights.
struct Activations {
  int64_t tokens = 0;
  int64_t cols = 0;
  int64_t padded_cols = 0;  // cols rounded up to 64; the int16 rows are zero past cols
  const float* f32 = nullptr;  // [tokens, cols]
  const int16_t* q = nullptr;       // FP4 only: [tokens, padded_cols] in the chunk order above
                                    // (avx2_fp4_gemm_kernel: the quad layout, quad_position)
  const float* q_scale = nullptr;   // FP4 only: [tokens, padded_cols / 4] scale/2 of each 4-column group's block
  // FP4 on AVX-512 VNNI and on AVX2: the same int16 values split as high·256 + low,
  // both int8 (see kQuantMax), for vpdpbusd / vpmaddubsw. Rows of padded128 = cols rounded up to
  // 128; each 128-column group (AVX-512; 64-column group on AVX2) holds its even columns, then
  // its odd ones. A "lane" is 8 consecutive columns (4 even,
  // 4 odd: one 32-bit lane of vpdpbusd in each half); AVX-512 has, per lane, −12·(sum of its
  // int16 values), which undoes the +12 by which the kernel makes the doubled FP4 codes
  // unsigned, and the lane's block scale/2 as in q_scale.
  int64_t padded128 = 0;
  const int8_t* q8_high = nullptr;        // [tokens, padded128]
  const int8_t* q8_low = nullptr;         // [tokens, padded128]
  const int32_t* q8_lane_bias = nullptr;  // [tokens, padded128 / 8]
  const float* q8_lane_scale = nullptr;   // [tokens, padded128 / 8]
  // AVX2 has block sums rather than lane sums: per 32-column block, −12·(sum of its int16 values)
  // and its scale/2, both [tokens, padded256 / 32], each 256-column group's 8 blocks in the order
  // hadd_block_position gives (the order in which the kernel's vphaddd leave them); zero past cols.
  int64_t padded256 = 0;
  const int32_t* q8_block_bias = nullptr;
  const float* q8_block_scale = nullptr;
  // FP8 matrix-vector products on AVX2: f32 · 2^E, [tokens, cols], E chosen per call so that the
  // largest magnitude is near 2^100: FP8 codes in float32's bits (2^-120 times their value) times
  // these neither overflow nor, for any term that counts, underflow. The two factors below
  // multiply to 2^(120 − E) and undo both (two, because their product can exceed float32).
  const float* f32_scaled = nullptr;
  float fp8_tiny_correction[2] = {1.0f, 1.0f};
  // FP8 on AVX512-BF16 only: x·2^E ≈ high + low as bf16, [tokens, padded_cols], zero past cols;
  // E and the correction as above (the codes become bf16s of 2^-120 times their value).
  const uint16_t* bf16_high = nullptr;
  const uint16_t* bf16_low = nullptr;
  // avx2_gemm_kernel only: this thread's working memory, avx2_gemm_scratch_floats() floats.
  float* scratch = nullptr;
};

// The int16 activations' largest magnitude: 127·257, the largest value whose split into
// high·256 + low (low in [-128, 127]) keeps high within int8 too.
inline constexpr float kQuantMax = 32639.0f;

// Each FP4 e2m1 code's value, doubled so that all are integers.
inline constexpr int8_t kFp4DoubledCodes[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// Where column c of a row lives in the chunk order.
static inline int64_t q_position(int64_t c) {
  const int64_t within = c % 64;
  return c - within + (within % 2) * 32 + (within / 32) * 16 + (within % 32) / 2;
}

// Where block b of a row sits among its Activations::q8_block_* values: each 256-column group
// holds its even blocks, then its odd ones ([0, 2, 4, 6, 1, 3, 5, 7]).
static inline int64_t hadd_block_position(int64_t block) {
  const int64_t within = block % 8;
  return block - within + (within % 2) * 4 + within / 2;
}

// The quad layout of the int16 activations: tokens in groups of 4 (padded with zero rows), and
// in each group the column pairs in order, each holding its 4 tokens' two int16 values, so that
// the AVX2 FP4 GEMM broadcasts a pair for each of 4 tokens from one pointer. A group of 4 tokens
// takes 4·padded_cols values, as 4 chunk-ordered rows do.
static inline int64_t quad_position(int64_t t, int64_t c, int64_t padded_cols) {
  return (t / 4) * 4 * padded_cols + (c / 2) * 8 + (t % 4) * 2 + c % 2;
}

// Writes y[t * y_stride + (r - row_begin)] for rows r in [row_begin, row_end), every token.
using RowsKernel = void (*)(const WeightMatrix& weight, int64_t row_begin, int64_t row_end, const Activations& x,
                            float* y, int64_t y_stride);

struct KernelTable {
  RowsKernel fp4;
  RowsKernel fp8;
  RowsKernel bf16;
  RowsKernel f32;
};

const KernelTable& scalar_kernels();
const KernelTable& avx2_kernels();    // only valid where the CPU has AVX2
const KernelTable& avx512_kernels();  // only valid where the CPU has AVX-512 + VNNI
// FP8 with whole 128-column blocks on AVX512-BF16 (Isa::Avx512Bf16 and up), nullptr where not built.
RowsKernel avx512_bf16_fp8_kernel();
// FP4 unpacked with AVX512-VBMI's vpermb (Isa::Avx512Bf16 and up), nullptr where not built.
RowsKernel avx512_vbmi_fp4_kernel();
// Several tokens on AVX2 without AMX, FP8 and BF16 weights: weights dequantised to float32
// panels, float32 activations (Activations::f32 only).
RowsKernel avx2_gemm_kernel();
// FP4 with several tokens on AVX2 without AMX: int16 activations (the scalar definition's
// integers, but Activations::q in the quad layout below) times the doubled codes with vpmaddwd,
// exact int32 block sums.
RowsKernel avx2_fp4_gemm_kernel();
// From this many tokens on, the packed kernels (avx2_gemm_kernel, avx2_fp4_gemm_kernel) beat the
// matrix-vector kernels, whose weight decoding per 4 tokens is cheaper than packing a panel when
// there are few tokens (bench_fast_linear, 1 thread, alternated: FP8 4096×4096 at 4 tokens
// 5.9–8.8 ms matrix-vector against 6.8–9.6 packed, at 12 tokens 20–24 against 11.4–12.7; FP4
// 2048×4096, medians of 5: at 4 tokens 2.36–2.47 against 2.33–3.32, at 8 4.05–5.12 against
// 3.85–4.34).
inline constexpr int64_t kAvx2GemmMinTokens = 8;
// The FP4 kernel pads tokens to whole quads, so 5–7 tokens cost it what 8 do. Measured inside a
// 512-token prefill on one thread (routed experts, weights read from memory): at 6–7 tokens the
// matrix-vector kernel ran at 27–32 GFLOP/s, the packed one at 40–48; at 5, 25–31 against 33–44.
inline constexpr int64_t kAvx2Fp4GemmMinTokens = 5;
// Floats of Activations::scratch that the packed kernels need for `cols` columns and `tokens`
// tokens. avx2_gemm_kernel: 16 dequantised rows (padded), one packed panel, the sums, and slack
// to align them. avx2_fp4_gemm_kernel needs less: a panel of 128 int32 pairs × 16 rows, 8×16
// scales, and the sums of the tokens rounded up to whole quads.
inline int64_t avx2_gemm_scratch_floats(int64_t cols, int64_t tokens) {
  const int64_t row_stride = (cols + 7) / 8 * 8 + 8;
  return 16 * row_stride + 256 * 16 + (tokens + 3) / 4 * 4 * 16 + 3 * 16;
}
// Rows per thread task on that path: whole 16-row panels.
inline constexpr int64_t kAvx2GemmRowGrain = 64;
// Tokens per call on that path: each panel is dequantised and packed once per call, so more
// tokens share that cost (FP8 4096×4096 at 256 tokens: 137–171 ms in calls of 32, 123–127 ms in
// one call); the activations of a panel's 256 columns (256 KiB at 256 tokens) stay in L2.
inline constexpr int64_t kAvx2GemmTokenChunk = 256;
// Activations::f32_scaled and fp8_tiny_correction for `count` floats of x (AVX2 only).
void avx2_scale_for_fp8_codes(const float* x, int64_t count, float* scaled, float correction[2]);
// Activations::bf16_high/low and fp8_tiny_correction for x (AVX512-BF16 only): x·2^E as two bf16
// parts, E chosen per call as in avx2_scale_for_fp8_codes.
void split_bf16_activations(const float* x, int64_t tokens, int64_t cols, int64_t padded, uint16_t* high,
                            uint16_t* low, float correction[2]);

// Activations::q8_high/low/lane_bias/lane_scale for the AVX-512 VNNI kernels straight from float32
// (AVX-512 only): bit for bit what quantising to int16 and splitting 128-column groups gives
// (fp4_activations.h), in one pass. high, low: [tokens, padded128]; lane_bias, lane_scale:
// [tokens, padded128 / 8]; every element is written. cols must be a multiple of 32.
void avx512_prepare_fp4_rows(const float* x, int64_t tokens, int64_t cols, int64_t padded128, int8_t* high,
                             int8_t* low, int32_t* lane_bias, float* lane_scale);

// (Helpers here are static: each ISA's file gets its own copy, never one built for another ISA.)
// The mask of the first `remaining` of 16 lanes (an AVX-512 __mmask16): all of them from 16 on,
// none at 0 or below.
static inline uint16_t lanes_below(int64_t remaining) {
  return remaining >= 16 ? uint16_t{0xFFFF} : remaining > 0 ? static_cast<uint16_t>((1u << remaining) - 1) : 0;
}

// How far ahead of the weight stream the SIMD kernels prefetch: one thread streaming weights
// alone keeps too few cache misses in flight (cold FP8 4096×4096 matvec: 5.4 → 7.0 GB/s at
// 2 KiB; 8 KiB measured better again for the 1-token kernels).
constexpr int64_t kPrefetchBytes = 8192;

// R rows, one from each of R equal parts of a range (R weight streams in one pass). A plain
// array: no standard-library template gets instantiated in the ISA files.
template <int R>
struct RowGroup {
  int64_t row[R];
};

// Decode with an R-row kernel: group_fn(rows, out) on each RowGroup, its R results stored into y
// (one token: y[row - row_begin]), then row_fn(row) on the rows left over (fewer than R).
template <int R, typename GroupFn, typename RowFn>
static inline void for_each_row_group(int64_t row_begin, int64_t row_end, float* y, GroupFn&& group_fn,
                                      RowFn&& row_fn) {
  const int64_t part = (row_end - row_begin) / R;
  for (int64_t i = 0; i < part; ++i) {
    RowGroup<R> rows;
    for (int r = 0; r < R; ++r) rows.row[r] = row_begin + r * part + i;
    float out[R];
    group_fn(rows, out);
    for (int r = 0; r < R; ++r) y[rows.row[r] - row_begin] = out[r];
  }
  for (int64_t r = row_begin + R * part; r < row_end; ++r) row_fn(r);
}

// The activation scaling of the FP8 kernels that multiply codes moved into float32's or bf16's
// bits (2^-120 times their value): x·2^exponent puts the largest magnitude near 2^100, so that
// neither it nor the products with small values leave float32's range (all zero, or not finite,
// which no scaling saves: 2^64). The two factors multiply to 2^(120 − exponent) and undo both
// (two, because their product can exceed float32).
struct Fp8CodeScaling {
  int exponent;
  float correction[2];
};
static inline Fp8CodeScaling fp8_code_scaling(float amax) {
  Fp8CodeScaling scaling{64, {1.0f, 1.0f}};
  if (amax > 0.0f && amax <= __FLT_MAX__) {
    int amax_exponent = 0;
    __builtin_frexpf(amax, &amax_exponent);  // amax < 2^amax_exponent
    scaling.exponent = 100 - amax_exponent;
    scaling.exponent = scaling.exponent < -20 ? -20 : scaling.exponent > 127 ? 127 : scaling.exponent;
  }
  const int remaining = 120 - scaling.exponent;  // in [-7, 140]: two factors, each within float32
  scaling.correction[0] = __builtin_ldexpf(1.0f, remaining / 2);
  scaling.correction[1] = __builtin_ldexpf(1.0f, remaining - remaining / 2);
  return scaling;
}

// Every row, its tokens in blocks of kBlock (one decoding of the row's weights serves a block)
// and the remaining tokens one by one: row_fn(row, first_token, std::integral_constant<int, n>).
// Each caller passes its own lambda, so each ISA file gets its own instance.
template <int kBlock, typename RowFn>
static inline void for_each_row_and_token_block(int64_t row_begin, int64_t row_end, int64_t tokens, RowFn&& row_fn) {
  if (tokens == 1) {
    // Decode: rows from the two halves of the range alternate, so that two weight streams are
    // in flight (one thread reaches more of its DRAM bandwidth with two than with one).
    const int64_t half = (row_end - row_begin + 1) / 2;
    for (int64_t i = 0; i < half; ++i) {
      row_fn(row_begin + i, 0, std::integral_constant<int, 1>{});
      if (row_begin + half + i < row_end) row_fn(row_begin + half + i, 0, std::integral_constant<int, 1>{});
    }
    return;
  }
  for (int64_t r = row_begin; r < row_end; ++r) {
    int64_t t = 0;
    for (; t + kBlock <= tokens; t += kBlock) row_fn(r, t, std::integral_constant<int, kBlock>{});
    for (; t < tokens; ++t) row_fn(r, t, std::integral_constant<int, 1>{});
  }
}

// Several tokens with a kRows × kTokens kernel: block_fn(first_row, first_token, rows, tokens)
// with rows and tokens as std::integral_constant, kRows consecutive rows and kTokens tokens at
// a time where whole, 1 otherwise. Each activation load then serves kRows rows and each weight
// decoding kTokens tokens.
template <int kRows, int kTokens, typename BlockFn>
static inline void for_each_row_block_and_token_block(int64_t row_begin, int64_t row_end, int64_t tokens,
                                                      BlockFn&& block_fn) {
  auto tokens_of = [&](int64_t r, auto rows) {
    int64_t t = 0;
    for (; t + kTokens <= tokens; t += kTokens) block_fn(r, t, rows, std::integral_constant<int, kTokens>{});
    for (; t < tokens; ++t) block_fn(r, t, rows, std::integral_constant<int, 1>{});
  };
  int64_t r = row_begin;
  for (; r + kRows <= row_end; r += kRows) tokens_of(r, std::integral_constant<int, kRows>{});
  for (; r < row_end; ++r) tokens_of(r, std::integral_constant<int, 1>{});
}

// Element c of a BF16 or F32 weight row, as float32.
template <bool kBf16>
static inline float stored_value(const uint8_t* row, int64_t c) {
  if constexpr (kBf16) {
    uint16_t bits;
    __builtin_memcpy(&bits, row + c * 2, 2);
    return bf16_to_f32(bits);
  } else {
    float value;
    __builtin_memcpy(&value, row + c * 4, 4);
    return value;
  }
}

// std::min without instantiating a template in an ISA-specific file.
static inline int64_t min_index(int64_t a, int64_t b) { return a < b ? a : b; }

// E8M0 as the SIMD kernels decode it: the byte shifted into a float's exponent (code 0, 2^-127,
// becomes 0; no real checkpoint uses it).
static inline float fast_e8m0(uint8_t code) { return std::bit_cast<float>(static_cast<uint32_t>(code) << 23); }

// FP8 e4m3 as the SIMD kernels decode it: the bits moved into an IEEE half, which is the value
// times 2^-8 exactly (subnormals included); kernels multiply 256 into the block scale.
inline constexpr float kFp8HalfCorrection = 256.0f;

}  // namespace lightseek::fast_kernels

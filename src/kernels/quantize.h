// Quantise-then-dequantise round trips of DeepSeek's reference numerics (spec §9.3, §9.4), in
// place on float32 data. Each block gets a power-of-two scale s = 2^ceil(log2(amax · fl32(1/qmax)))
// with amax clamped from below; values become round_to_nearest_even(clamp(x/s, ±qmax)) · s.
#pragma once

#include <cstdint>

namespace lightseek {

// FP8 e4m3 (qmax 448, amax ≥ 1e-4) over consecutive blocks of `block` values; the last block may
// be partial.
void fp8_roundtrip_blocks(float* values, int64_t count, int64_t block);

// FP4 e2m1 (qmax 6, amax ≥ 6·2^-126) over consecutive blocks of `block` values.
void fp4_roundtrip_blocks(float* values, int64_t count, int64_t block);

// Rows of FP4 values in 32-blocks (as fp4_roundtrip_blocks leaves them: each value a doubled
// FP4 code times 2^(e−1) for its block's e) as the int8 operand of VectorOps::fp4_key_scores:
// per block, the doubled codes shifted left by e minus the row's smallest e (all-zero blocks
// aside), the block's even columns first, then its odd ones; scale[row] = 2^(smallest e − 1).
// `dim` must be a multiple of 32. Returns false, leaving the outputs unspecified, when a value is
// not on that grid or a row's block exponents span more than 2 octaves (|code| would pass 48).
bool fp4_rows_as_int8(const float* values, int64_t rows, int64_t dim, int8_t* codes, float* scale);

// In-place Walsh–Hadamard transform of length n (a power of two), Sylvester order, scaled by
// n^-1/2 so that it is orthonormal.
void hadamard_transform(float* values, int64_t n);

}  // namespace lightseek

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

// In-place Walsh–Hadamard transform of length n (a power of two), Sylvester order, scaled by
// n^-1/2 so that it is orthonormal.
void hadamard_transform(float* values, int64_t n);

}  // namespace lightseek

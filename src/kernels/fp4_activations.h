// The FP4 kernels' activations, prepared once per fast_linear call: each input row quantised to
// int16 in blocks of 32 (the scalar definition, Activations::q), and the int8 high/low split of
// those integers that the VNNI (AVX-512) and vpmaddubsw (AVX2) kernels multiply (Activations::q8_*).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu_features.h"

namespace lightseek {

// Buffers of the int16 activations; kept thread_local by the caller so that decode reuses them
// without allocating.
struct QuantizedRows {
  std::vector<int16_t> q;
  std::vector<float> q_scale;
  std::vector<int8_t> high, low;  // the VNNI split (Activations::q8_*)
  std::vector<int32_t> lane_bias;  // AVX-512
  std::vector<float> lane_scale;
  std::vector<int32_t> block_bias;  // AVX2
  std::vector<float> block_scale;
};

// q and q_scale: [tokens, padded] in the chunk order of Activations, or with `token_quads` the AVX2
// FP4 GEMM's layout (fast_kernels::quad_position), tokens then padded to a multiple of 4.
void quantize_rows(const float* x, int64_t tokens, int64_t cols, int64_t padded, bool token_quads,
                   QuantizedRows& out);

// The int16 rows again as int8 high and low parts, each `group_cols` columns (128 for AVX-512's
// vpdpbusd, 64 for AVX2's vpmaddubsw) holding their even columns, then their odd ones; with the
// bias and scale of each lane (AVX-512) or block (AVX2) that Activations describes.
void split_int8_rows(const QuantizedRows& in, int64_t tokens, int64_t cols, int64_t padded, int64_t padded128,
                     int64_t padded256, int64_t group_cols, QuantizedRows& out);

// What the AVX-512 VNNI kernels read (high, low, lane_bias, lane_scale; q and q_scale are left
// as they were): on an AVX-512 `isa` straight from float32, otherwise through quantize_rows and
// split_int8_rows. The bits are the same either way.
void prepare_vnni_rows(Isa isa, const float* x, int64_t tokens, int64_t cols, QuantizedRows& out);

}  // namespace lightseek

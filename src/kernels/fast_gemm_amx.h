// Prefill products on Intel AMX (internal to the kernels layer): weights dequantised to bf16
// (exactly: FP4/FP8 times their power-of-two scales fit bf16), activations split into two bf16
// parts (x ≈ high + low, 16 significant bits: bf16 alone moved the fixture logits by up to 1.9),
// tile dot products accumulated in float32. Used by fast_linear for several tokens at once.
#pragma once

#include <cstdint>

#include "core/weight_matrix.h"

namespace lightseek::fast_kernels {

// Activations in the B-tile layout: [token blocks of 16][column chunks of 32][16 column pairs]
// [16 tokens][2] bf16, zero past the last token and column.
// The caller sizes `high` and `low`: amx_activation_elements() bf16 each.
struct TileActivations {
  int64_t tokens = 0;
  int64_t token_blocks = 0;  // ceil(tokens / 16)
  int64_t chunks = 0;        // ceil(cols / 32)
  uint16_t* high = nullptr;  // bf16(x)
  uint16_t* low = nullptr;   // bf16(x − high)
  // For FP4 weights: in each whole 64-column group, chunk 2g holds the group's even columns and
  // chunk 2g + 1 its odd ones (the order in which a packed FP4 byte's two nibbles unpack
  // cheaply). The weights are dequantised in the same order, so the products are unchanged.
  bool fp4_column_pairs = false;
};

inline int64_t amx_activation_elements(const TileActivations& x) { return x.token_blocks * x.chunks * 16 * 32; }
// bf16 scratch each thread passes to amx_rows: 32 dequantised weight rows in tile order,
// [column chunks of 32][32 rows][32 bf16], so that every tile load reads 1 KiB in a row.
inline int64_t amx_scratch_elements(const TileActivations& x) { return x.chunks * 32 * 32; }

void amx_prepare_activations(const float* x, int64_t cols, const TileActivations& out);

// y[t * y_stride + (r - row_begin)] for rows [row_begin, row_end) and every token.
void amx_rows(const WeightMatrix& weight, int64_t row_begin, int64_t row_end, const TileActivations& x,
              uint16_t* scratch, float* y, int64_t y_stride);

}  // namespace lightseek::fast_kernels

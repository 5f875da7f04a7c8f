// Linear maps y = x · Wᵀ on weights in their stored format (spec §3), one row of x per token.
// Rows are computed independently with the same arithmetic, so a token's result does not
// depend on what else is in the batch: chunked prefill, decode and batching agree bit for bit.
#pragma once

#include <cstdint>

#include "core/weight_matrix.h"

namespace lightseek {

struct LinearOptions {
  // Reference numerics (spec §9.3): round each input row through FP8 e4m3 in blocks of 128
  // along the input dimension, with power-of-two scales, before the product.
  bool quantize_activations = false;
};

// x: [tokens, weight.cols], y: [tokens, weight.rows], both float32 row-major.
void linear(const WeightMatrix& weight, const float* x, int64_t tokens, float* y, const LinearOptions& options = {});

// The same for a row range [row_begin, row_begin + row_count) of the weight (grouped output
// projection); y: [tokens, row_count], x: [tokens, weight.cols].
void linear_rows(const WeightMatrix& weight, int64_t row_begin, int64_t row_count, const float* x, int64_t tokens,
                 float* y, const LinearOptions& options = {});

}  // namespace lightseek

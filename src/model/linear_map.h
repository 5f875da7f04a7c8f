// The model's linear maps, in the arithmetic its numerics ask for: the double-accumulating
// reference kernel (exact, reference) or the SIMD kernels on the thread pool (fast).
#pragma once

#include <cstdint>

#include "core/weight_matrix.h"
#include "model/numerics.h"

namespace lightseek {

// Whether the reference numerics round the input through FP8 first (spec §9.3: the inputs of
// FP8/FP4 projections inside blocks), or never (router, compressors, head, output groups).
enum class ActivationQuant { Allowed, Never };

void apply_linear(const NumericsOptions& numerics, const WeightMatrix& weight, const float* x, int64_t tokens,
                  float* y, ActivationQuant quant = ActivationQuant::Never);

void apply_linear_rows(const NumericsOptions& numerics, const WeightMatrix& weight, int64_t row_begin,
                       int64_t row_count, const float* x, int64_t tokens, float* y,
                       ActivationQuant quant = ActivationQuant::Never);

}  // namespace lightseek

// Scalar reference dequantisation of weights in every stored format (spec §9.2). This is the
// definition of what a weight's value is; fast kernels are tested against it.
#pragma once

#include <cstdint>

#include "core/weight_matrix.h"

namespace lightseek {

// The value of element (row, col) as float32.
float weight_value(const WeightMatrix& weight, int64_t row, int64_t col);

// Writes rows [row_begin, row_begin + row_count) as float32, row-major, into out
// (row_count × weight.cols floats).
void dequantize_rows(const WeightMatrix& weight, int64_t row_begin, int64_t row_count, float* out);

// Reads a 1-D or N-D tensor of F32 or BF16 (norm weights, biases, hc parameters) as float32.
// Throws Error for other dtypes.
void tensor_to_f32(const TensorView& tensor, float* out);

}  // namespace lightseek

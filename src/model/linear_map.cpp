#include "model/linear_map.h"

#include "kernels/fast_linear.h"
#include "kernels/linear.h"

namespace lightseek {

void apply_linear_rows(const NumericsOptions& numerics, const WeightMatrix& weight, int64_t row_begin,
                       int64_t row_count, const float* x, int64_t tokens, float* y, ActivationQuant quant) {
  if (numerics.fast_kernels()) {
    fast_linear_rows(weight, row_begin, row_count, x, tokens, y);
    return;
  }
  LinearOptions options;
  options.quantize_activations = quant == ActivationQuant::Allowed && numerics.quantize_activations();
  linear_rows(weight, row_begin, row_count, x, tokens, y, options);
}

void apply_linear(const NumericsOptions& numerics, const WeightMatrix& weight, const float* x, int64_t tokens,
                  float* y, ActivationQuant quant) {
  apply_linear_rows(numerics, weight, 0, weight.rows, x, tokens, y, quant);
}

}  // namespace lightseek

#include "kernels/norm.h"

#include <cmath>

namespace lightseek {

void rms_norm(const float* x, int64_t n, const float* weight, float eps, float* out) {
  float sum_squares = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum_squares += x[i] * x[i];
  const float inverse_rms = 1.0f / std::sqrt(sum_squares / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = weight ? x[i] * inverse_rms * weight[i] : x[i] * inverse_rms;
}

float dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace lightseek

// RMSNorm and the small vector operations the model is built from, in float32.
#pragma once

#include <cstdint>

namespace lightseek {

// out = x · rsqrt(mean(x²) + eps) ⊙ weight; weight may be nullptr (no weight). out may be x.
void rms_norm(const float* x, int64_t n, const float* weight, float eps, float* out);

float dot(const float* a, const float* b, int64_t n);

inline float sigmoid(float x) { return 1.0f / (1.0f + __builtin_expf(-x)); }

}  // namespace lightseek

#include "kernels/vector_ops.h"

#include <cmath>

#include "core/number_formats.h"
#include "kernels/vector_ops_by_rows.h"

namespace lightseek {
namespace vector_kernels {
namespace {

float dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace

void decode_fp4_blocks32_scalar(const uint8_t* packed, const uint8_t* scales, int64_t width, float* out) {
  for (int64_t c = 0; c < width; ++c) {
    out[c] = std::ldexp(fp4_e2m1_to_f32(fp4_nibble_at(packed, c)), static_cast<int>(scales[c / 32]) - 127);
  }
}

const VectorOps& scalar_ops() {
  static const VectorOps ops = {dot, axpy, scores_by_rows<dot>, weighted_sums_by_rows<axpy>,
                                decode_fp4_blocks32_scalar};
  return ops;
}

}  // namespace vector_kernels

const VectorOps& vector_ops_for(Isa isa) {
  switch (isa) {
    case Isa::Amx:
    case Isa::Avx512: return vector_kernels::avx512_ops();
    case Isa::Avx2: return vector_kernels::avx2_ops();
    case Isa::Scalar: break;
  }
  return vector_kernels::scalar_ops();
}

const VectorOps& vector_ops() {
  static const VectorOps& ops = vector_ops_for(active_isa());
  return ops;
}

}  // namespace lightseek

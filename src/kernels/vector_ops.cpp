#include "kernels/vector_ops.h"

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

const VectorOps& scalar_ops() {
  static const VectorOps ops = {dot, axpy, scores_by_rows<dot>, weighted_sums_by_rows<axpy>};
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

// Float32 vector primitives of the fast numerics (attention scores and sums, indexer scores),
// dispatched to the best ISA at run time. Summation order differs from the scalar `dot` of
// kernels/norm.h, which the exact numerics keep.
#pragma once

#include <cstdint>

#include "kernels/cpu_features.h"

namespace lightseek {

struct VectorOps {
  float (*dot)(const float* a, const float* b, int64_t n);
  // y += alpha · x
  void (*axpy)(float alpha, const float* x, float* y, int64_t n);
};

const VectorOps& vector_ops();            // for active_isa()
const VectorOps& vector_ops_for(Isa isa);  // tests

namespace vector_kernels {
const VectorOps& scalar_ops();
const VectorOps& avx2_ops();
const VectorOps& avx512_ops();
}  // namespace vector_kernels

}  // namespace lightseek

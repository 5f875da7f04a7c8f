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
  // Attention's two products, many query heads against the same rows (V4's keys are its
  // values, shared by every head), so that each row loaded serves several heads:
  // logits[h·n + j] = scale · (q[h·q_stride ..] · rows[j]) for h < heads, j < n.
  void (*scores)(const float* q, int64_t heads, int64_t q_stride, const float* const* rows, int64_t n, int64_t dim,
                 float scale, float* logits);
  // out[h·out_stride + d] = Σ_j weights[h·n + j] · rows[j][d] for d < dim (out is overwritten).
  void (*weighted_sums)(const float* weights, int64_t heads, const float* const* rows, int64_t n, int64_t dim,
                        float* out, int64_t out_stride);
};

const VectorOps& vector_ops();            // for active_isa()
const VectorOps& vector_ops_for(Isa isa);  // tests

namespace vector_kernels {
const VectorOps& scalar_ops();
const VectorOps& avx2_ops();
const VectorOps& avx512_ops();
}  // namespace vector_kernels

}  // namespace lightseek

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
  // A row of `width` FP4 e2m1 values (two per byte, the low nibble first) in blocks of 32 with
  // one e8m0 scale each (the last block may be partial), decoded to float32: the same values
  // on every ISA (code value · 2^(scale − 127), correctly rounded). The indexer decodes every
  // key of a coded cache once per token: 260K keys at a 1M context.
  void (*decode_fp4_blocks32)(const uint8_t* packed, const uint8_t* scales, int64_t width, float* out);
};

const VectorOps& vector_ops();            // for active_isa()
const VectorOps& vector_ops_for(Isa isa);  // tests

namespace vector_kernels {
// The scalar definition of VectorOps::decode_fp4_blocks32, also the other ISAs' tail.
void decode_fp4_blocks32_scalar(const uint8_t* packed, const uint8_t* scales, int64_t width, float* out);
const VectorOps& scalar_ops();
const VectorOps& avx2_ops();
const VectorOps& avx512_ops();
}  // namespace vector_kernels

}  // namespace lightseek

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
  // The indexer's scores over a coded cache, in integers: its queries and keys are both FP4 in
  // 32-blocks with power-of-two scales, so each product of a query and a key is an integer times
  // a power of two. out[h·out_stride + j] = q_h · key_j, as the float32 nearest the exact value
  // (it is the exact value while the integer stays below 2^24: always at V4's sizes).
  //   q: `heads` rows of `dim` int8 (dim a multiple of 32, |q| ≤ 48), each 32-block laid out as
  //      its even columns, then its odd ones (fp4_rows_as_int8 in kernels/quantize); row h
  //      stands for q · q_scale[h].
  //   keys: n rows, key_stride bytes apart, as KvRows::fp4 stores them: dim/2 bytes of FP4 codes
  //      (low nibble first), then dim/32 e8m0 scales.
  void (*fp4_key_scores)(const int8_t* q, const float* q_scale, int64_t heads, int64_t dim, const uint8_t* keys,
                         int64_t key_stride, int64_t n, float* out, int64_t out_stride);
  // The indexer's weighted scores (spec §6.5) of many query tokens against one run of keys, so
  // that a prompt's tokens share each key loaded:
  //   out[t·out_stride + j] = Σ_h w[t·heads + h] · max(0, q_{t,h} · key_j), the heads added in order,
  // for t < tokens, j < n; q is [tokens][heads][dim], key j at keys + j·key_stride.
  void (*index_scores)(const float* q, const float* w, int64_t tokens, int64_t heads, int64_t dim, const float* keys,
                       int64_t key_stride, int64_t n, float* out, int64_t out_stride);
  // The same over FP4 keys with int8 queries, each head's product as fp4_key_scores gives it:
  // q is [tokens][heads][dim] int8, q_scale [tokens][heads].
  void (*fp4_index_scores)(const int8_t* q, const float* q_scale, const float* w, int64_t tokens, int64_t heads,
                           int64_t dim, const uint8_t* keys, int64_t key_stride, int64_t n, float* out,
                           int64_t out_stride);
  // Attention's softmax with one logit more in the denominator only (the head's sink, spec §6.6):
  // row[j] ← exp(row[j] − m) / (exp(extra − m) + Σ_k exp(row[k] − m)), m the row's maximum.
  // The SIMD versions' exp is a polynomial within ~2 ulp of std::exp.
  void (*softmax_with_extra)(float* row, int64_t n, float extra);
  // The routed experts' clamped SwiGLU (spec §7.2), weighted: for i < n, with g = gate[i] and
  // u = up[i] both clamped when limit > 0 (u to ±limit, g from above only),
  // gate[i] ← g / (1 + exp(−g)) · u · weight.
  void (*swiglu)(float* gate, const float* up, int64_t n, float limit, float weight);
};

const VectorOps& vector_ops();            // for active_isa()
const VectorOps& vector_ops_for(Isa isa);  // tests

namespace vector_kernels {
// The scalar definition of VectorOps::decode_fp4_blocks32, also the other ISAs' tail.
void decode_fp4_blocks32_scalar(const uint8_t* packed, const uint8_t* scales, int64_t width, float* out);
// The scalar definition of VectorOps::fp4_key_scores, which the SIMD versions use for keys
// their int16 sums cannot take.
void fp4_key_scores_scalar(const int8_t* q, const float* q_scale, int64_t heads, int64_t dim, const uint8_t* keys,
                           int64_t key_stride, int64_t n, float* out, int64_t out_stride);
// The scalar definitions of VectorOps::index_scores and fp4_index_scores.
void index_scores_scalar(const float* q, const float* w, int64_t tokens, int64_t heads, int64_t dim, const float* keys,
                         int64_t key_stride, int64_t n, float* out, int64_t out_stride);
void fp4_index_scores_scalar(const int8_t* q, const float* q_scale, const float* w, int64_t tokens, int64_t heads,
                             int64_t dim, const uint8_t* keys, int64_t key_stride, int64_t n, float* out,
                             int64_t out_stride);
// The scalar definitions of VectorOps::softmax_with_extra and swiglu (std::exp, sums in order),
// which the exact numerics use too.
void softmax_with_extra_scalar(float* row, int64_t n, float extra);
void swiglu_scalar(float* gate, const float* up, int64_t n, float limit, float weight);
const VectorOps& scalar_ops();
const VectorOps& avx2_ops();
const VectorOps& avx512_ops();
}  // namespace vector_kernels

}  // namespace lightseek

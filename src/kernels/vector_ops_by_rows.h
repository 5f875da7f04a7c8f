// VectorOps::scores and weighted_sums as loops over a variant's own dot and axpy, for the
// variants without a blocked kernel (scalar, AVX2). Internal to the kernels layer; each file that
// includes it gets its own copies (anonymous namespace), compiled for that file's ISA.
#pragma once

#include <cstdint>

namespace lightseek::vector_kernels {
namespace {

template <float (*Dot)(const float*, const float*, int64_t)>
void scores_by_rows(const float* q, int64_t heads, int64_t q_stride, const float* const* rows, int64_t n, int64_t dim,
                    float scale, float* logits) {
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t j = 0; j < n; ++j) logits[h * n + j] = Dot(q + h * q_stride, rows[j], dim) * scale;
  }
}

template <void (*Axpy)(float, const float*, float*, int64_t)>
void weighted_sums_by_rows(const float* weights, int64_t heads, const float* const* rows, int64_t n, int64_t dim,
                           float* out, int64_t out_stride) {
  for (int64_t h = 0; h < heads; ++h) {
    float* out_h = out + h * out_stride;
    for (int64_t d = 0; d < dim; ++d) out_h[d] = 0.0f;
    for (int64_t j = 0; j < n; ++j) Axpy(weights[h * n + j], rows[j], out_h, dim);
  }
}

}  // namespace
}  // namespace lightseek::vector_kernels

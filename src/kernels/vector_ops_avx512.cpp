// AVX-512 float32 vector primitives; compiled for AVX-512 alone, used where the CPU has it.
#include "kernels/vector_ops.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace lightseek::vector_kernels {
namespace {

inline __mmask16 mask_for(int64_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}

float dot(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = mask_for(n - i);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  const __m512 a = _mm512_set1_ps(alpha);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask_for(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

inline __mmask16 mask_from(int64_t remaining) { return remaining <= 0 ? 0 : mask_for(remaining); }

// HB heads × JB rows: each 16-float step loads JB row pieces and HB query pieces for HB·JB FMAs.
template <int HB, int JB>
void score_block(const float* q, int64_t q_stride, const float* const* rows, int64_t dim, float scale, float* logits,
                 int64_t n) {
  __m512 acc[HB][JB];
  for (int i = 0; i < HB; ++i) {
    for (int k = 0; k < JB; ++k) acc[i][k] = _mm512_setzero_ps();
  }
  for (int64_t d = 0; d < dim; d += 16) {
    const __mmask16 m = mask_for(dim - d);
    __m512 row[JB];
    for (int k = 0; k < JB; ++k) row[k] = _mm512_maskz_loadu_ps(m, rows[k] + d);
    for (int i = 0; i < HB; ++i) {
      const __m512 qi = _mm512_maskz_loadu_ps(m, q + i * q_stride + d);
      for (int k = 0; k < JB; ++k) acc[i][k] = _mm512_fmadd_ps(qi, row[k], acc[i][k]);
    }
  }
  for (int i = 0; i < HB; ++i) {
    for (int k = 0; k < JB; ++k) logits[i * n + k] = _mm512_reduce_add_ps(acc[i][k]) * scale;
  }
}

void scores(const float* q, int64_t heads, int64_t q_stride, const float* const* rows, int64_t n, int64_t dim,
            float scale, float* logits) {
  for (int64_t h0 = 0; h0 < heads; h0 += 4) {
    const float* qh = q + h0 * q_stride;
    float* lh = logits + h0 * n;
    if (h0 + 4 <= heads) {
      int64_t j = 0;
      for (; j + 4 <= n; j += 4) score_block<4, 4>(qh, q_stride, rows + j, dim, scale, lh + j, n);
      for (; j < n; ++j) score_block<4, 1>(qh, q_stride, rows + j, dim, scale, lh + j, n);
    } else {
      for (int64_t h = h0; h < heads; ++h) {
        for (int64_t j = 0; j < n; ++j) score_block<1, 1>(q + h * q_stride, q_stride, rows + j, dim, scale, logits + h * n + j, n);
      }
    }
  }
}

// HB heads × 64 columns: each row piece loaded serves HB heads.
template <int HB>
void sum_block(const float* weights, int64_t n, const float* const* rows, int64_t d0, int64_t dim, float* out,
               int64_t out_stride) {
  __m512 acc[HB][4];
  for (int i = 0; i < HB; ++i) {
    for (int z = 0; z < 4; ++z) acc[i][z] = _mm512_setzero_ps();
  }
  __mmask16 m[4];
  for (int z = 0; z < 4; ++z) m[z] = mask_from(dim - d0 - 16 * z);
  for (int64_t j = 0; j < n; ++j) {
    __m512 row[4];
    for (int z = 0; z < 4; ++z) row[z] = _mm512_maskz_loadu_ps(m[z], rows[j] + d0 + 16 * z);
    for (int i = 0; i < HB; ++i) {
      const __m512 w = _mm512_set1_ps(weights[i * n + j]);
      for (int z = 0; z < 4; ++z) acc[i][z] = _mm512_fmadd_ps(w, row[z], acc[i][z]);
    }
  }
  for (int i = 0; i < HB; ++i) {
    for (int z = 0; z < 4; ++z) _mm512_mask_storeu_ps(out + i * out_stride + d0 + 16 * z, m[z], acc[i][z]);
  }
}

void weighted_sums(const float* weights, int64_t heads, const float* const* rows, int64_t n, int64_t dim, float* out,
                   int64_t out_stride) {
  for (int64_t h0 = 0; h0 < heads; h0 += 4) {
    const float* w = weights + h0 * n;
    float* o = out + h0 * out_stride;
    for (int64_t d0 = 0; d0 < dim; d0 += 64) {
      switch (heads - h0 < 4 ? heads - h0 : 4) {
        case 1: sum_block<1>(w, n, rows, d0, dim, o, out_stride); break;
        case 2: sum_block<2>(w, n, rows, d0, dim, o, out_stride); break;
        case 3: sum_block<3>(w, n, rows, d0, dim, o, out_stride); break;
        default: sum_block<4>(w, n, rows, d0, dim, o, out_stride); break;
      }
    }
  }
}

}  // namespace

const VectorOps& avx512_ops() {
  // The FP4 keys and the indexer's scores: the AVX2 versions (a CPU with AVX-512 has AVX2).
  static const VectorOps ops = {dot,
                                axpy,
                                scores,
                                weighted_sums,
                                avx2_ops().decode_fp4_blocks32,
                                avx2_ops().fp4_key_scores,
                                avx2_ops().index_scores,
                                avx2_ops().fp4_index_scores};
  return ops;
}

}  // namespace lightseek::vector_kernels
#else
namespace lightseek::vector_kernels {
const VectorOps& avx512_ops() { return scalar_ops(); }
}  // namespace lightseek::vector_kernels
#endif

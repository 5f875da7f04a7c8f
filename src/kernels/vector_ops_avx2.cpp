// AVX2 + FMA float32 vector primitives; compiled for AVX2 alone, used where the CPU has it.
#include "kernels/vector_ops.h"

#include "kernels/vector_ops_by_rows.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace lightseek::vector_kernels {
namespace {

float dot(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  const __m256 s = _mm256_add_ps(s0, s1);
  const __m128 pair = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  const __m128 two = _mm_add_ps(pair, _mm_movehl_ps(pair, pair));
  float total = _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  const __m256 a = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace

const VectorOps& avx2_ops() {
  static const VectorOps ops = {dot, axpy, scores_by_rows<dot>, weighted_sums_by_rows<axpy>};
  return ops;
}

}  // namespace lightseek::vector_kernels
#else
namespace lightseek::vector_kernels {
const VectorOps& avx2_ops() { return scalar_ops(); }
}  // namespace lightseek::vector_kernels
#endif

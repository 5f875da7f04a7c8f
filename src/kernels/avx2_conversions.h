// AVX2 conversions shared by the AVX2 kernel files (fast_linear_avx2.cpp, fast_gemm_avx2.cpp),
// which alone are compiled with -mavx2 -mfma -mf16c. Static so that each file keeps its own copy
// and none leaks to code built for another ISA.
#pragma once

#if !defined(__AVX2__) || !defined(__F16C__)
#error "include avx2_conversions.h only from files compiled for AVX2 + F16C"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace lightseek::fast_kernels {

static inline float horizontal_sum(__m256 v) {
  const __m128 pair = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 two = _mm_add_ps(pair, _mm_movehl_ps(pair, pair));
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

// 8 FP8 e4m3 codes → float32 times 2^-8: the code's bits moved into an IEEE half, which is exact
// for every code, subnormals included (kFp8HalfCorrection restores the 2^8).
static inline __m256 fp8x8_to_scaled_f32(const uint8_t* codes) {
  int64_t eight;
  std::memcpy(&eight, codes, 8);
  const __m128i shifted = _mm_slli_epi16(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(eight)), 7);
  return _mm256_cvtph_ps(_mm_and_si128(shifted, _mm_set1_epi16(static_cast<short>(0xBFFF))));
}

// 8 BF16 values → float32 (exact: the bits move to the high half).
static inline __m256 bf16x8_to_f32(const uint8_t* bytes) {
  const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}

}  // namespace lightseek::fast_kernels

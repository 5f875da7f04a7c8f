// AVX2 conversions, the horizontal sum, the 8×8 transpose and the scratch alignment shared by
// the AVX2 kernel files (fast_linear_avx2.cpp, fast_gemm_avx2.cpp, fast_gemm_fp4_avx2.cpp,
// vector_ops_avx2.cpp), which alone are compiled with -mavx2 -mfma -mf16c. Static so that each file keeps its own copy and none leaks to code built for another
// ISA.
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

// 8 FP8 e4m3 codes → float32 times 2^-120: the sign-extended code shifted so that its exponent
// lands in the low 4 bits of float32's exponent and its mantissa at the top of float32's. Codes
// with exponent 0 become float32 subnormals of exactly the right value, the rest normals: exact
// for every code, in 3 instructions where the half-float route takes 6. Multiply only with
// operands scaled up (Activations::f32_scaled), or the products underflow.
static inline __m256 fp8x8_as_f32_tiny(const uint8_t* codes) {
  const __m256i words = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes)));
  // Keeps the sign (bit 31, from the sign extension) and the 7 value bits; drops the sign's
  // other copies at bits 27–30.
  return _mm256_castsi256_ps(
      _mm256_and_si256(_mm256_slli_epi32(words, 20), _mm256_set1_epi32(static_cast<int>(0x87F00000u))));
}

// 8 BF16 values → float32 (exact: the bits move to the high half).
static inline __m256 bf16x8_to_f32(const uint8_t* bytes) {
  const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}

// The first 64-byte boundary at or after p: each part of a kernel's scratch starts there, so
// that its aligned loads and stores are legal.
static inline float* align_to_64(float* p) {
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
}

// 8×8 transpose of floats: rows[i] holds row i; afterwards rows[i] holds column i.
static inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

}  // namespace lightseek::fast_kernels

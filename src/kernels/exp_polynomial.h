// The constants of the SIMD exp behind VectorOps::softmax_with_extra and swiglu: AVX-512 and
// AVX2 evaluate the same steps with them, so that the two give the same bits.
//   x is held to [kLowest, kHighest]; n = round(x·log2 e); r = x − n·ln2 (ln2 in two parts, so
//   that r is exact); e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2 (Cephes' expf polynomial, within
//   ~2 ulp); e^x = e^r·2^n.
#pragma once

namespace lightseek::exp_polynomial {

inline constexpr float kLowest = -104.0f;  // e^x is below float32's smallest subnormal
inline constexpr float kHighest = 89.0f;   // e^x is above float32's largest value
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2High = 0.693359375f;
inline constexpr float kLn2Low = -2.12194440e-4f;
// P's coefficients, the highest degree first (Horner's order).
inline constexpr int kDegree = 5;
inline constexpr float kCoefficients[kDegree + 1] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                                     4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

}  // namespace lightseek::exp_polynomial

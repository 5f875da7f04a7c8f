// The fast linear map y = x · Wᵀ (numerics "fast"): SIMD kernels that read the weights in their
// stored format (FP4 e2m1 with 1×32 e8m0 scales, FP8 e4m3 with 128×128 e8m0 scales, BF16, F32),
// float32 accumulation, spread over the kernel thread pool by output rows.
//
// FP4 weights multiply int16 activations: each input row is quantised in blocks of 32 with a
// float scale (amax/32639) and the products of each block are exact integers.
// The other formats multiply the float32 activations, except FP8 where the CPU has AVX512-BF16
// (vdpbf16ps with two-part bf16 activations). Prefill-sized calls take other paths: AMX tiles
// with two-part bf16 activations where the CPU has AMX; on AVX-512 without AMX the same kernels
// in blocks of 4 rows × 4 tokens; on AVX2 packed weight panels: float32 panels and activations
// for FP8/BF16, int16 codes times the same int16 activations for FP4 (vpmaddwd); see
// fast_linear.cpp and fast_linear_kernels.h for the thresholds.
#pragma once

#include <cstdint>

#include "core/weight_matrix.h"
#include "kernels/cpu_features.h"

namespace lightseek {

class ThreadPool;

// x: [tokens, weight.cols], y: [tokens, weight.rows]. pool == nullptr: the kernel pool.
void fast_linear(const WeightMatrix& weight, const float* x, int64_t tokens, float* y, ThreadPool* pool = nullptr);

// Rows [row_begin, row_begin + row_count) of the weight; y: [tokens, row_count].
void fast_linear_rows(const WeightMatrix& weight, int64_t row_begin, int64_t row_count, const float* x, int64_t tokens,
                      float* y, ThreadPool* pool = nullptr);

// The same with a given ISA on the calling thread (tests compare each with Isa::Scalar).
void fast_linear_with(Isa isa, const WeightMatrix& weight, const float* x, int64_t tokens, float* y);

}  // namespace lightseek

#include "kernels/vector_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/number_formats.h"
#include "kernels/vector_ops_by_rows.h"

namespace lightseek {
namespace vector_kernels {
namespace {

float dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace

void decode_fp4_blocks32_scalar(const uint8_t* packed, const uint8_t* scales, int64_t width, float* out) {
  for (int64_t c = 0; c < width; ++c) {
    out[c] = std::ldexp(fp4_e2m1_to_f32(fp4_nibble_at(packed, c)), static_cast<int>(scales[c / 32]) - 127);
  }
}

void fp4_key_scores_scalar(const int8_t* q, const float* q_scale, int64_t heads, int64_t dim, const uint8_t* keys,
                           int64_t key_stride, int64_t n, float* out, int64_t out_stride) {
  std::vector<double> key(static_cast<size_t>(dim));
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t* codes = keys + j * key_stride;
    const uint8_t* scales = codes + dim / 2;
    // The key's values in the queries' column order (each 32-block's even columns, then its odd
    // ones), exact in double.
    for (int64_t b = 0; b < dim / 32; ++b) {
      for (int64_t m = 0; m < 32; ++m) {
        const int64_t column = 32 * b + (m < 16 ? 2 * m : 2 * (m - 16) + 1);
        key[static_cast<size_t>(32 * b + m)] =
            std::ldexp(static_cast<double>(fp4_e2m1_to_f32(fp4_nibble_at(codes, column))), static_cast<int>(scales[b]) - 127);
      }
    }
    for (int64_t h = 0; h < heads; ++h) {
      // Every term is exact in double, and so is their sum unless the block scales lie more
      // than ~30 octaves apart; one rounding to float32 at the end.
      double sum = 0.0;
      for (int64_t c = 0; c < dim; ++c) sum += static_cast<double>(q[h * dim + c]) * key[static_cast<size_t>(c)];
      out[h * out_stride + j] = static_cast<float>(sum * static_cast<double>(q_scale[h]));
    }
  }
}

void index_scores_scalar(const float* q, const float* w, int64_t tokens, int64_t heads, int64_t dim, const float* keys,
                         int64_t key_stride, int64_t n, float* out, int64_t out_stride) {
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t j = 0; j < n; ++j) {
      float score = 0.0f;
      for (int64_t h = 0; h < heads; ++h) {
        const float product = dot(q + (t * heads + h) * dim, keys + j * key_stride, dim);
        score += w[t * heads + h] * std::max(0.0f, product);
      }
      out[t * out_stride + j] = score;
    }
  }
}

void fp4_index_scores_scalar(const int8_t* q, const float* q_scale, const float* w, int64_t tokens, int64_t heads,
                             int64_t dim, const uint8_t* keys, int64_t key_stride, int64_t n, float* out,
                             int64_t out_stride) {
  std::vector<float> head_scores(static_cast<size_t>(heads * n));
  for (int64_t t = 0; t < tokens; ++t) {
    fp4_key_scores_scalar(q + t * heads * dim, q_scale + t * heads, heads, dim, keys, key_stride, n,
                          head_scores.data(), n);
    for (int64_t j = 0; j < n; ++j) {
      float score = 0.0f;
      for (int64_t h = 0; h < heads; ++h) score += w[t * heads + h] * std::max(0.0f, head_scores[h * n + j]);
      out[t * out_stride + j] = score;
    }
  }
}

void softmax_with_extra_scalar(float* row, int64_t n, float extra) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) max = std::max(max, row[j]);
  float denominator = std::exp(extra - max);
  for (int64_t j = 0; j < n; ++j) denominator += (row[j] = std::exp(row[j] - max));
  for (int64_t j = 0; j < n; ++j) row[j] /= denominator;
}

void swiglu_scalar(float* gate, const float* up, int64_t n, float limit, float weight) {
  for (int64_t i = 0; i < n; ++i) {
    float g = gate[i], u = up[i];
    if (limit > 0.0f) {
      u = std::clamp(u, -limit, limit);
      g = std::min(g, limit);
    }
    const float silu = g / (1.0f + std::exp(-g));
    gate[i] = silu * u * weight;
  }
}

const VectorOps& scalar_ops() {
  static const VectorOps ops = {dot, axpy, scores_by_rows<dot>, weighted_sums_by_rows<axpy>,
                                decode_fp4_blocks32_scalar, fp4_key_scores_scalar, index_scores_scalar,
                                fp4_index_scores_scalar, softmax_with_extra_scalar, swiglu_scalar};
  return ops;
}

}  // namespace vector_kernels

const VectorOps& vector_ops_for(Isa isa) {
  switch (isa) {
    case Isa::Amx:
    case Isa::Avx512Bf16:
    case Isa::Avx512: return vector_kernels::avx512_ops();
    case Isa::Avx2: return vector_kernels::avx2_ops();
    case Isa::Scalar: break;
  }
  return vector_kernels::scalar_ops();
}

const VectorOps& vector_ops() {
  static const VectorOps& ops = vector_ops_for(active_isa());
  return ops;
}

}  // namespace lightseek

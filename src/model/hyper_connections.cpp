#include "model/hyper_connections.h"

#include <cmath>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/dequantize.h"
#include "kernels/norm.h"
#include "model/linear_map.h"

namespace lightseek {

WeightMatrix matrix_view(const TensorView& tensor) {
  WeightMatrix matrix;
  matrix.format = tensor.dtype == DType::BF16 ? WeightFormat::BF16 : WeightFormat::F32;
  matrix.rows = tensor.shape.empty() ? 1 : tensor.shape[0];
  matrix.cols = matrix.rows ? tensor.numel() / matrix.rows : 0;
  matrix.weight = tensor;
  return matrix;
}

std::vector<float> to_f32_vector(const TensorView& tensor) {
  std::vector<float> values(static_cast<size_t>(tensor.numel()));
  tensor_to_f32(tensor, values.data());
  return values;
}

namespace {

// μ = (x·fnᵀ)·rsqrt(mean(x²) + eps) per token: normalising after the product equals normalising
// the input first (§5.2 step 3).
std::vector<float> mix_logits(const NumericsOptions& numerics, const WeightMatrix& fn, const float* streams,
                              int64_t tokens, int64_t width, float eps) {
  std::vector<float> mu(static_cast<size_t>(tokens * fn.rows));
  apply_linear(numerics, fn, streams, tokens, mu.data());
  for (int64_t t = 0; t < tokens; ++t) {
    const float* x = streams + t * width;
    const float inverse_rms = 1.0f / std::sqrt(dot(x, x, width) / static_cast<float>(width) + eps);
    for (int64_t i = 0; i < fn.rows; ++i) mu[t * fn.rows + i] *= inverse_rms;
  }
  return mu;
}

// Projects C (n×n, row-major) towards a doubly stochastic matrix (§5.2 step 8).
void sinkhorn(float* c, int64_t n, int64_t iterations, float eps) {
  for (int64_t j = 0; j < n; ++j) {  // row softmax, then + eps
    float* row = c + j * n;
    float max = row[0];
    for (int64_t k = 1; k < n; ++k) max = std::max(max, row[k]);
    float sum = 0.0f;
    for (int64_t k = 0; k < n; ++k) sum += (row[k] = std::exp(row[k] - max));
    for (int64_t k = 0; k < n; ++k) row[k] = row[k] / sum + eps;
  }
  auto normalize_columns = [&] {
    for (int64_t k = 0; k < n; ++k) {
      float sum = 0.0f;
      for (int64_t j = 0; j < n; ++j) sum += c[j * n + k];
      for (int64_t j = 0; j < n; ++j) c[j * n + k] /= sum + eps;
    }
  };
  auto normalize_rows = [&] {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t k = 0; k < n; ++k) sum += c[j * n + k];
      for (int64_t k = 0; k < n; ++k) c[j * n + k] /= sum + eps;
    }
  };
  normalize_columns();
  for (int64_t i = 1; i < iterations; ++i) {
    normalize_rows();
    normalize_columns();
  }
}

}  // namespace

HyperConnection::HyperConnection(const ModelConfig& config, const HyperConnectionWeights& weights,
                                 NumericsOptions numerics)
    : streams_(config.hc_mult),
      dim_(config.hidden_size),
      iterations_(config.hc_sinkhorn_iters),
      norm_eps_(static_cast<float>(config.rms_norm_eps)),
      hc_eps_(static_cast<float>(config.hc_eps)),
      numerics_(numerics),
      fn_(matrix_view(weights.fn)),
      base_(to_f32_vector(weights.base)),
      scale_(to_f32_vector(weights.scale)) {}

void HyperConnection::collapse(const float* streams, int64_t tokens, float* collapsed) {
  const int64_t n = streams_, width = n * dim_, outputs = (2 + n) * n;
  const std::vector<float> mu = mix_logits(numerics_, fn_, streams, tokens, width, norm_eps_);
  post_.assign(static_cast<size_t>(tokens * n), 0.0f);
  comb_.assign(static_cast<size_t>(tokens * n * n), 0.0f);
  // Tokens are independent (each writes its own post_, comb_ and output row), so under fast
  // numerics they are split over the kernel threads, as in expand().
  auto collapse_tokens = [&](int64_t begin, int64_t end, int) {
    std::vector<float> pre(static_cast<size_t>(n));
    for (int64_t t = begin; t < end; ++t) {
      const float* m = mu.data() + t * outputs;
      for (int64_t j = 0; j < n; ++j) {
        pre[j] = sigmoid(m[j] * scale_[0] + base_[j]) + hc_eps_;
        post_[t * n + j] = 2.0f * sigmoid(m[n + j] * scale_[1] + base_[n + j]);
      }
      float* c = comb_.data() + t * n * n;
      for (int64_t i = 0; i < n * n; ++i) c[i] = m[2 * n + i] * scale_[2] + base_[2 * n + i];
      sinkhorn(c, n, iterations_, hc_eps_);
      const float* x = streams + t * width;
      float* __restrict out = collapsed + t * dim_;
      // Stream by stream, as in expand(); each value is still 0 + pre[0]·x[0] + pre[1]·x[1] + ….
      for (int64_t d = 0; d < dim_; ++d) out[d] = 0.0f;
      for (int64_t j = 0; j < n; ++j) {
        const float* __restrict stream = x + j * dim_;
        for (int64_t d = 0; d < dim_; ++d) out[d] += pre[j] * stream[d];
      }
    }
  };
  if (numerics_.fast_kernels()) {
    kernel_pool().parallel_for(tokens, kTokenGrain, collapse_tokens);
  } else {
    collapse_tokens(0, tokens, 0);
  }
}

void HyperConnection::expand(const float* output, int64_t tokens, float* streams) const {
  const int64_t n = streams_, dim = dim_;
  // Stream by stream over all of d, so that the loops vectorise (one value at a time, with its
  // n old values 16 KB apart, this took 0.35 s of a 512-token prefill). Every value still sums
  // post·output first and then the old streams in order: the bits are the same on any thread.
  // Columns [d0, d1) of token t: a column of the new streams reads only that column of the old.
  auto expand_columns = [&](int64_t t, int64_t d0, int64_t d1) {
    const int64_t width = d1 - d0;
    thread_local std::vector<float> old;  // kept between calls: decode makes two per layer
    old.resize(static_cast<size_t>(n * width));
    float* x = streams + t * n * dim;
    for (int64_t j = 0; j < n; ++j) std::copy(x + j * dim + d0, x + j * dim + d1, old.begin() + j * width);
    const float* c = comb_.data() + t * n * n;
    const float* __restrict a = output + t * dim + d0;
    for (int64_t k = 0; k < n; ++k) {
      float* __restrict out = x + k * dim + d0;
      const float post = post_[t * n + k];
      for (int64_t d = 0; d < width; ++d) out[d] = post * a[d];
      for (int64_t j = 0; j < n; ++j) {
        const float weight = c[j * n + k];
        const float* __restrict previous = old.data() + j * width;
        for (int64_t d = 0; d < width; ++d) out[d] += weight * previous[d];
      }
    }
  };
  auto expand_tokens = [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) expand_columns(t, 0, dim);
  };
  ThreadPool& pool = kernel_pool();
  if (!numerics_.fast_kernels()) {
    expand_tokens(0, tokens, 0);
  } else if (tokens >= pool.threads() * kTokenGrain) {
    pool.parallel_for(tokens, kTokenGrain, expand_tokens);
  } else {
    // Too few tokens to go round (a decode step has one): each token's columns are split instead.
    // A decode step's expand took 11-18 us on the calling thread alone, twice per layer.
    for (int64_t t = 0; t < tokens; ++t) {
      pool.parallel_for(dim, kColumnGrain, [&](int64_t d0, int64_t d1, int) { expand_columns(t, d0, d1); });
    }
  }
}

HyperConnectionHead::HyperConnectionHead(const ModelConfig& config, const HyperConnectionWeights& weights,
                                         NumericsOptions numerics)
    : streams_(config.hc_mult),
      dim_(config.hidden_size),
      norm_eps_(static_cast<float>(config.rms_norm_eps)),
      hc_eps_(static_cast<float>(config.hc_eps)),
      numerics_(numerics),
      fn_(matrix_view(weights.fn)),
      base_(to_f32_vector(weights.base)),
      scale_(to_f32_vector(weights.scale)) {}

void HyperConnectionHead::collapse(const float* streams, int64_t tokens, float* out) const {
  const int64_t n = streams_, width = n * dim_;
  const std::vector<float> mu = mix_logits(numerics_, fn_, streams, tokens, width, norm_eps_);
  std::vector<float> w(static_cast<size_t>(n));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t j = 0; j < n; ++j) w[j] = sigmoid(mu[t * n + j] * scale_[0] + base_[j]) + hc_eps_;
    const float* x = streams + t * width;
    for (int64_t d = 0; d < dim_; ++d) {
      float sum = 0.0f;
      for (int64_t j = 0; j < n; ++j) sum += w[j] * x[j * dim_ + d];
      out[t * dim_ + d] = sum;
    }
  }
}

}  // namespace lightseek

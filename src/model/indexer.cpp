#include "model/indexer.h"

#include <algorithm>
#include <cmath>

#include "model/linear_map.h"
#include "model/top_k.h"
#include "core/thread_pool.h"
#include "kernels/norm.h"
#include "kernels/vector_ops.h"
#include "kernels/quantize.h"

namespace lightseek {

Indexer::Indexer(const ModelConfig& config, const IndexerWeights& weights, int ratio, const RopeTable& rope,
                 NumericsOptions numerics)
    : heads_(config.index_n_heads),
      dim_(config.index_head_dim),
      top_k_(config.index_topk),
      rope_dim_(config.rope_head_dim),
      rope_(rope),
      numerics_(numerics),
      wq_b_(weights.wq_b),
      weights_proj_(weights.weights_proj),
      compressor_(config, weights.compressor, ratio, config.index_head_dim, Compressor::Output::IndexKey, rope,
                  numerics) {}

void Indexer::project(const float* cq, const float* a, int64_t tokens, int64_t start, float* q, float* w) const {
  apply_linear(numerics_, wq_b_, cq, tokens, q, ActivationQuant::Allowed);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t h = 0; h < heads_; ++h) {
      float* head = q + (t * heads_ + h) * dim_;
      rope_.rotate(head + dim_ - rope_dim_, start + t);
      if (numerics_.kv_roundtrip()) {
        hadamard_transform(head, dim_);
        fp4_roundtrip_blocks(head, dim_, 32);
      }
    }
  }
  apply_linear(numerics_, weights_proj_, a, tokens, w);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dim_)) / std::sqrt(static_cast<float>(heads_));
  for (int64_t i = 0; i < tokens * heads_; ++i) w[i] *= scale;
}

void Indexer::select(const float* q, const float* w, const AttentionState& state, std::vector<int64_t>& chosen) const {
  const int64_t keys = state.index_key_count();
  // Kept between calls: 1 MB per CSA layer and token at a 1M context, every element written below.
  // (A reference, because the workers below must see this thread's buffer, not their own.)
  thread_local std::vector<float> score_buffer;
  if (score_buffer.size() < static_cast<size_t>(keys)) score_buffer.resize(static_cast<size_t>(keys));
  std::vector<float>& scores = score_buffer;
  if (numerics_.fast_kernels()) {
    const VectorOps& ops = vector_ops();
    const float* rows = state.index_keys.f32_data();
    // FP4 keys (a coded cache) meet queries that went through the same FP4 round trip: the
    // products are then computed in integers on the codes, exactly, as the float32 products
    // of the decoded keys come out (they are exact too at these sizes).
    std::vector<int8_t> integer_q;
    std::vector<float> integer_q_scale;
    bool integer_products = false;
    if (state.index_keys.format() == KvRowFormat::Fp4Blocks32 && dim_ % 32 == 0) {
      integer_q.resize(static_cast<size_t>(heads_ * dim_));
      integer_q_scale.resize(static_cast<size_t>(heads_));
      integer_products = fp4_rows_as_int8(q, heads_, dim_, integer_q.data(), integer_q_scale.data());
    }
    const uint8_t* coded_keys = state.index_keys.stored_bytes().data();
    const int64_t key_bytes = state.index_keys.row_bytes();
    kernel_pool().parallel_for(keys, 64, [&](int64_t begin, int64_t end, int) {
      // Every head against a block of keys at once; coded keys (FP4) are decoded a block at a time.
      constexpr int64_t kBlock = 64;
      std::vector<float> decoded(rows || integer_products ? 0 : static_cast<size_t>(kBlock * dim_));
      std::vector<const float*> block_keys(kBlock);
      std::vector<float> head_scores(static_cast<size_t>(heads_ * kBlock));
      for (int64_t s0 = begin; s0 < end; s0 += kBlock) {
        const int64_t n = std::min(kBlock, end - s0);
        if (integer_products) {
          ops.fp4_key_scores(integer_q.data(), integer_q_scale.data(), heads_, dim_, coded_keys + s0 * key_bytes,
                             key_bytes, n, head_scores.data(), n);
        } else {
          for (int64_t i = 0; i < n; ++i) {
            if (rows) {
              block_keys[i] = rows + (s0 + i) * dim_;
            } else {
              state.index_keys.read(s0 + i, decoded.data() + i * dim_);
              block_keys[i] = decoded.data() + i * dim_;
            }
          }
          ops.scores(q, heads_, dim_, block_keys.data(), n, dim_, 1.0f, head_scores.data());
        }
        // Heads outer, keys inner (contiguous, so the compiler vectorises it); each key's sum
        // still runs over the heads in order, as the scalar path adds them.
        float* block_scores = scores.data() + s0;
        std::fill(block_scores, block_scores + n, 0.0f);
        for (int64_t h = 0; h < heads_; ++h) {
          const float weight = w[h];
          const float* head = head_scores.data() + h * n;
          for (int64_t i = 0; i < n; ++i) block_scores[i] += weight * std::max(0.0f, head[i]);
        }
      }
    });
  } else {
    std::vector<float> decoded(static_cast<size_t>(dim_));
    const float* rows = state.index_keys.f32_data();
    for (int64_t s = 0; s < keys; ++s) {
      const float* key = rows ? rows + s * dim_ : decoded.data();
      if (!rows) state.index_keys.read(s, decoded.data());
      float score = 0.0f;
      for (int64_t h = 0; h < heads_; ++h) score += w[h] * std::max(0.0f, dot(q + h * dim_, key, dim_));
      scores[s] = score;
    }
  }
  top_k_indices(scores.data(), keys, top_k_, chosen);
}

}  // namespace lightseek

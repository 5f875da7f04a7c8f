#include "model/indexer.h"

#include <algorithm>
#include <cmath>

#include "model/linear_map.h"
#include "model/top_k.h"
#include "core/scratch.h"
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
    rope_.rotate_heads(q + t * heads_ * dim_ + dim_ - rope_dim_, heads_, dim_, start + t);
    for (int64_t h = 0; h < heads_; ++h) {
      float* head = q + (t * heads_ + h) * dim_;
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

void Indexer::select(const float* q, const float* w, int64_t tokens, const int64_t* visible,
                     const AttentionState& state, IndexSelection& selection) const {
  selection.stride = top_k_;
  selection.entries.resize(static_cast<size_t>(tokens * top_k_));
  selection.count.resize(static_cast<size_t>(tokens));
  if (tokens == 0) return;
  if (numerics_.fast_kernels()) {
    select_fast(q, w, tokens, visible, state, selection);
    return;
  }
  std::vector<int64_t> chosen;
  for (int64_t t = 0; t < tokens; ++t) {
    select_exact(q + t * heads_ * dim_, w + t * heads_, visible[t], state, chosen);
    std::copy(chosen.begin(), chosen.end(), selection.entries.begin() + t * top_k_);
    selection.count[static_cast<size_t>(t)] = static_cast<int64_t>(chosen.size());
  }
}

void Indexer::select_exact(const float* q, const float* w, int64_t visible, const AttentionState& state,
                           std::vector<int64_t>& chosen) const {
  // Kept between calls: 1 MB per CSA layer and token at a 1M context, every element written below.
  thread_local std::vector<float> scores;
  if (scores.size() < static_cast<size_t>(visible)) scores.resize(static_cast<size_t>(visible));
  std::vector<float> decoded(static_cast<size_t>(dim_));
  const float* rows = state.index_keys.f32_data();
  for (int64_t s = 0; s < visible; ++s) {
    const float* key = rows ? rows + s * dim_ : decoded.data();
    if (!rows) state.index_keys.read(s, decoded.data());
    float score = 0.0f;
    for (int64_t h = 0; h < heads_; ++h) score += w[h] * std::max(0.0f, dot(q + h * dim_, key, dim_));
    scores[static_cast<size_t>(s)] = score;
  }
  top_k_indices(scores.data(), visible, top_k_, chosen);
}

// Scores kept at once: tokens × visible keys floats (32 MB), so that a prompt's scores at a 1M
// context (260K keys per token) are made and consumed in groups of 32 tokens.
constexpr int64_t kIndexScoreBudget = int64_t{8} << 20;
// Keys per piece of the work split over threads: the kernels' run of packed keys.
constexpr int64_t kIndexKeyGrain = 256;

void Indexer::select_fast(const float* q, const float* w, int64_t tokens, const int64_t* visible,
                          const AttentionState& state, IndexSelection& selection) const {
  const VectorOps& ops = vector_ops();
  const int64_t keys = visible[tokens - 1];
  const int64_t group = std::clamp<int64_t>(kIndexScoreBudget / std::max<int64_t>(keys, 1), 1, tokens);
  const float* rows = state.index_keys.f32_data();
  const uint8_t* coded_keys = state.index_keys.stored_bytes().data();
  const int64_t key_bytes = state.index_keys.row_bytes();
  // FP4 keys (a coded cache) meet queries that went through the same FP4 round trip: their
  // products are computed in integers on the codes, exactly (fp4_index_scores). A query whose
  // blocks lie too far apart for int8, or keys of another width, take float32 products on the
  // decoded keys.
  const bool fp4_keys = !rows && state.index_keys.format() == KvRowFormat::Fp4Blocks32 && dim_ % 32 == 0;
  Scratch<float> scores(static_cast<size_t>(group * keys));
  Scratch<int8_t> integer_q(fp4_keys ? static_cast<size_t>(group * heads_ * dim_) : 0);
  Scratch<float> integer_scale(fp4_keys ? static_cast<size_t>(group * heads_) : 0);
  std::vector<uint8_t> integer(static_cast<size_t>(group));
  for (int64_t g0 = 0; g0 < tokens; g0 += group) {
    const int64_t count = std::min(group, tokens - g0);
    const float* group_q = q + g0 * heads_ * dim_;
    const float* group_w = w + g0 * heads_;
    const int64_t group_keys = visible[g0 + count - 1];
    for (int64_t t = 0; t < count; ++t) {
      integer[static_cast<size_t>(t)] =
          fp4_keys && fp4_rows_as_int8(group_q + t * heads_ * dim_, heads_, dim_, integer_q.data() + t * heads_ * dim_,
                                       integer_scale.data() + t * heads_);
    }
    kernel_pool().parallel_for(group_keys, kIndexKeyGrain, [&](int64_t begin, int64_t end, int) {
      // Decoded keys, for the tokens that take float32 products on a coded cache.
      thread_local std::vector<float> decoded;
      for (int64_t k0 = begin; k0 < end; k0 += kIndexKeyGrain) {
        const int64_t n = std::min(kIndexKeyGrain, end - k0);
        // Tokens see more keys as they go: the first that sees any of these onwards.
        int64_t t = std::upper_bound(visible + g0, visible + g0 + count, k0) - (visible + g0);
        bool keys_decoded = false;
        while (t < count) {
          // A run of tokens that take the same kind of products.
          const bool integer_run = integer[static_cast<size_t>(t)];
          int64_t t_end = t + 1;
          while (t_end < count && static_cast<bool>(integer[static_cast<size_t>(t_end)]) == integer_run) ++t_end;
          float* out = scores.data() + t * group_keys + k0;
          if (integer_run) {
            ops.fp4_index_scores(integer_q.data() + t * heads_ * dim_, integer_scale.data() + t * heads_,
                                 group_w + t * heads_, t_end - t, heads_, dim_, coded_keys + k0 * key_bytes, key_bytes,
                                 n, out, group_keys);
          } else {
            const float* key_rows = rows ? rows + k0 * dim_ : nullptr;
            if (!key_rows) {
              if (!keys_decoded) {
                decoded.resize(static_cast<size_t>(n * dim_));
                for (int64_t i = 0; i < n; ++i) state.index_keys.read(k0 + i, decoded.data() + i * dim_);
                keys_decoded = true;
              }
              key_rows = decoded.data();
            }
            ops.index_scores(group_q + t * heads_ * dim_, group_w + t * heads_, t_end - t, heads_, dim_, key_rows,
                             dim_, n, out, group_keys);
          }
          t = t_end;
        }
      }
    });
    kernel_pool().parallel_for(count, 1, [&](int64_t begin, int64_t end, int) {
      thread_local std::vector<int64_t> chosen;
      for (int64_t t = begin; t < end; ++t) {
        top_k_indices(scores.data() + t * group_keys, visible[g0 + t], top_k_, chosen);
        std::copy(chosen.begin(), chosen.end(), selection.entries.begin() + (g0 + t) * top_k_);
        selection.count[static_cast<size_t>(g0 + t)] = static_cast<int64_t>(chosen.size());
      }
    });
  }
}

}  // namespace lightseek

#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/linear_map.h"
#include "core/scratch.h"
#include "core/stage_timer.h"
#include "core/thread_pool.h"
#include "kernels/vector_ops.h"
#include "kernels/norm.h"
#include "kernels/quantize.h"
#include "model/hyper_connections.h"

namespace lightseek {

Attention::Attention(const ModelConfig& config, const AttentionWeights& weights, const LayerSpec& layer,
                     NumericsOptions numerics)
    : config_(config),
      weights_(weights),
      layer_(layer),
      numerics_(numerics),
      rope_(config, layer.compress_ratio > 0),
      q_norm_(to_f32_vector(weights.q_norm)),
      kv_norm_(to_f32_vector(weights.kv_norm)),
      sink_(to_f32_vector(weights.attn_sink)) {
  if (weights.has_compressor) {
    compressor_ = std::make_unique<Compressor>(config, weights.compressor, layer.compress_ratio, config.head_dim,
                                               Compressor::Output::MainKv, rope_, numerics);
  }
  if (weights.has_indexer) {
    indexer_ = std::make_unique<Indexer>(config, weights.indexer, layer.compress_ratio, rope_, numerics);
  }
}

void Attention::forward(const float* a, int64_t rows, const std::vector<Segment>& segments, float* out) const {
  const ModelConfig& c = config_;
  const int64_t heads = c.num_heads, head_dim = c.head_dim, rope_dim = c.rope_head_dim;
  const float eps = static_cast<float>(c.rms_norm_eps);

  StageSwitch stage(Stage::Projections);
  // §6.1 projections, for every row at once.
  Scratch<float> cq(static_cast<size_t>(rows * c.q_lora_rank));
  apply_linear(numerics_, weights_.wq_a, a, rows, cq.data(), ActivationQuant::Allowed);
  for (int64_t r = 0; r < rows; ++r) {
    rms_norm(cq.data() + r * c.q_lora_rank, c.q_lora_rank, q_norm_.data(), eps, cq.data() + r * c.q_lora_rank);
  }
  Scratch<float> q(static_cast<size_t>(rows * heads * head_dim));
  apply_linear(numerics_, weights_.wq_b, cq.data(), rows, q.data(), ActivationQuant::Allowed);
  Scratch<float> kv(static_cast<size_t>(rows * head_dim));
  apply_linear(numerics_, weights_.wkv, a, rows, kv.data(), ActivationQuant::Allowed);

  Scratch<float> u, z, index_u, index_z, index_q, index_w;
  if (compressor_) {
    u = Scratch<float>(static_cast<size_t>(rows * compressor_->vector_width()));
    z = Scratch<float>(u.size());
    compressor_->project(a, rows, u.data(), z.data());
  }
  if (indexer_) {
    const Compressor& ic = indexer_->compressor();
    index_u = Scratch<float>(static_cast<size_t>(rows * ic.vector_width()));
    index_z = Scratch<float>(index_u.size());
    ic.project(a, rows, index_u.data(), index_z.data());
    index_q = Scratch<float>(static_cast<size_t>(rows * indexer_->heads() * indexer_->dim()));
    index_w = Scratch<float>(static_cast<size_t>(rows * indexer_->heads()));
  }

  Scratch<float> o(static_cast<size_t>(rows * heads * head_dim));
  std::vector<float> entry(static_cast<size_t>(std::max(head_dim, c.index_head_dim)));
  // Per token of a segment, the compressed entries and index keys it sees: a token's own are
  // appended first, so that the indexer can score a prompt's tokens together.
  std::vector<int64_t> visible_entries, visible_keys;
  IndexSelection selection;
  std::vector<int64_t> all_entries;
  for (const Segment& segment : segments) {
    AttentionState& state = *segment.state;
    visible_entries.resize(static_cast<size_t>(segment.tokens));
    visible_keys.resize(static_cast<size_t>(segment.tokens));
    stage.to(Stage::Attention);
    for (int64_t i = 0; i < segment.tokens; ++i) {
      const int64_t row = segment.offset + i;
      const int64_t position = segment.start + i;
      float* kvt = kv.data() + row * head_dim;
      rms_norm(kvt, head_dim, kv_norm_.data(), eps, kvt);
      rope_.rotate(kvt + head_dim - rope_dim, position);
      if (numerics_.kv_roundtrip()) fp8_roundtrip_blocks(kvt, head_dim - rope_dim, 64);

      if (compressor_ && compressor_->step(state.compressor, u.data() + row * compressor_->vector_width(),
                                           z.data() + row * compressor_->vector_width(), position, entry.data())) {
        state.entries.append(entry.data());
      }
      if (indexer_) {
        const Compressor& ic = indexer_->compressor();
        if (ic.step(state.index_compressor, index_u.data() + row * ic.vector_width(),
                    index_z.data() + row * ic.vector_width(), position, entry.data())) {
          state.index_keys.append(entry.data());
        }
      }
      visible_entries[static_cast<size_t>(i)] = state.entry_count();
      visible_keys[static_cast<size_t>(i)] = state.index_key_count();
    }
    if (indexer_) {
      stage.to(Stage::Indexer);
      const int64_t first = segment.offset;
      indexer_->project(cq.data() + first * c.q_lora_rank, a + first * c.hidden_size, segment.tokens, segment.start,
                        index_q.data() + first * indexer_->heads() * indexer_->dim(),
                        index_w.data() + first * indexer_->heads());
      indexer_->select(index_q.data() + first * indexer_->heads() * indexer_->dim(),
                       index_w.data() + first * indexer_->heads(), segment.tokens, visible_keys.data(), state,
                       selection);
    }
    stage.to(Stage::Attention);
    for (int64_t i = 0; i < segment.tokens; ++i) {
      const int64_t row = segment.offset + i;
      const int64_t position = segment.start + i;
      // The window's ring is written token by token: a later token's row takes the slot of one
      // this token still sees.
      const float* kvt = kv.data() + row * head_dim;
      std::copy(kvt, kvt + head_dim, state.ring.begin() + (position % state.window) * head_dim);
      std::span<const int64_t> selected;
      if (indexer_) {
        selected = selection.of(i);
      } else if (compressor_) {
        const int64_t count = visible_entries[static_cast<size_t>(i)];
        while (static_cast<int64_t>(all_entries.size()) < count) all_entries.push_back(static_cast<int64_t>(all_entries.size()));
        selected = std::span<const int64_t>(all_entries).first(static_cast<size_t>(count));
      }
      attend(q.data() + row * heads * head_dim, state, position, selected, o.data() + row * heads * head_dim);
    }
  }

  stage.to(Stage::Projections);
  // §6.7 grouped low-rank output: each group of consecutive heads has its own wo_a slice.
  const int64_t groups = c.o_groups, rank = c.o_lora_rank, group_width = heads / groups * head_dim;
  Scratch<float> group_input(static_cast<size_t>(rows * group_width));
  Scratch<float> group_output(static_cast<size_t>(rows * rank));
  Scratch<float> low_rank(static_cast<size_t>(rows * groups * rank));
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* source = o.data() + r * heads * head_dim + g * group_width;
      std::copy(source, source + group_width, group_input.begin() + r * group_width);
    }
    apply_linear_rows(numerics_, weights_.wo_a, g * rank, rank, group_input.data(), rows, group_output.data());
    for (int64_t r = 0; r < rows; ++r) {
      std::copy(group_output.begin() + r * rank, group_output.begin() + (r + 1) * rank,
                low_rank.begin() + r * groups * rank + g * rank);
    }
  }
  apply_linear(numerics_, weights_.wo_b, low_rank.data(), rows, out, ActivationQuant::Allowed);
}

// §6.6: softmax over the window and the selected compressed entries, with the per-head sink
// logit in the denominator only; then the inverse RoPE of the output (§6.2).
void Attention::prepare_queries(float* q, int64_t head_begin, int64_t head_end, int64_t position) const {
  const int64_t head_dim = config_.head_dim, rope_dim = config_.rope_head_dim;
  const float eps = static_cast<float>(config_.rms_norm_eps);
  for (int64_t h = head_begin; h < head_end; ++h) rms_norm(q + h * head_dim, head_dim, nullptr, eps, q + h * head_dim);
  rope_.rotate_heads(q + head_begin * head_dim + head_dim - rope_dim, head_end - head_begin, head_dim, position);
}

void Attention::attend(float* q, const AttentionState& state, int64_t position, std::span<const int64_t> selected,
                       float* out) const {
  const int64_t heads = config_.num_heads, head_dim = config_.head_dim, rope_dim = config_.rope_head_dim;
  const int64_t first = std::max<int64_t>(0, position - state.window + 1);
  std::vector<const float*> values;
  for (int64_t p = first; p <= position; ++p) values.push_back(state.ring.data() + (p % state.window) * head_dim);
  // Coded entries (FP8) are decoded once per query into a scratch row each, on every thread. The
  // scratch is kept between calls: at a 1M context an HCA layer decodes ~8K entries (17 MB), and
  // fresh memory each token cost page faults.
  thread_local std::vector<float> decoded;
  if (const float* rows = state.entries.f32_data()) {
    for (int64_t e : selected) values.push_back(rows + e * head_dim);
  } else {
    if (decoded.size() < selected.size() * static_cast<size_t>(head_dim)) {
      decoded.resize(selected.size() * static_cast<size_t>(head_dim));
    }
    float* scratch = decoded.data();
    auto decode = [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) state.entries.read(selected[static_cast<size_t>(i)], scratch + i * head_dim);
    };
    if (numerics_.fast_kernels()) {
      kernel_pool().parallel_for(static_cast<int64_t>(selected.size()), 64, decode);
    } else {
      decode(0, static_cast<int64_t>(selected.size()), 0);
    }
    for (size_t i = 0; i < selected.size(); ++i) values.push_back(scratch + i * head_dim);
  }

  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  if (numerics_.fast_kernels()) {
    const VectorOps& ops = vector_ops();
    const int64_t n = static_cast<int64_t>(values.size());
    // Heads in groups, so that each cached row loaded serves several heads.
    kernel_pool().parallel_for(heads, 8, [&](int64_t head_begin, int64_t head_end, int) {
      const int64_t count = head_end - head_begin;
      prepare_queries(q, head_begin, head_end, position);
      thread_local std::vector<float> weights;  // kept between calls, like `decoded`
      if (weights.size() < static_cast<size_t>(count * n)) weights.resize(static_cast<size_t>(count * n));
      ops.scores(q + head_begin * head_dim, count, head_dim, values.data(), n, head_dim, scale, weights.data());
      for (int64_t i = 0; i < count; ++i) ops.softmax_with_extra(weights.data() + i * n, n, sink_[head_begin + i]);
      ops.weighted_sums(weights.data(), count, values.data(), n, head_dim, out + head_begin * head_dim, head_dim);
      float* rope_channels = out + head_begin * head_dim + head_dim - rope_dim;
      rope_.rotate_heads(rope_channels, count, head_dim, position, /*inverse=*/true);
    });
    return;
  }
  prepare_queries(q, 0, heads, position);
  std::vector<float> logits(values.size());
  for (int64_t h = 0; h < heads; ++h) {
    const float* qh = q + h * head_dim;
    float max = -std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < values.size(); ++j) max = std::max(max, logits[j] = dot(qh, values[j], head_dim) * scale);
    float denominator = std::exp(sink_[h] - max);
    for (float& logit : logits) denominator += (logit = std::exp(logit - max));
    float* oh = out + h * head_dim;
    std::fill(oh, oh + head_dim, 0.0f);
    for (size_t j = 0; j < values.size(); ++j) {
      const float p = logits[j] / denominator;
      for (int64_t d = 0; d < head_dim; ++d) oh[d] += p * values[j][d];
    }
    rope_.rotate(oh + head_dim - rope_dim, position, /*inverse=*/true);
  }
}

}  // namespace lightseek

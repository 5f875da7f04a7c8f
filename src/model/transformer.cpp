#include "model/transformer.h"

#include <algorithm>

#include "core/error.h"
#include "core/scratch.h"
#include "core/thread_pool.h"
#include "core/stage_timer.h"
#include "kernels/dequantize.h"
#include "model/linear_map.h"
#include "kernels/norm.h"

namespace lightseek {

Block::Block(const ModelConfig& config, const BlockWeights& weights, NumericsOptions numerics)
    : config_(config),
      hc_attn_(config, weights.hc_attn, numerics),
      hc_ffn_(config, weights.hc_ffn, numerics),
      attn_norm_(to_f32_vector(weights.attn_norm)),
      ffn_norm_(to_f32_vector(weights.ffn_norm)),
      attention_(config, weights.attn, weights.spec, numerics),
      moe_(config, weights.ffn, weights.spec.hash_routed, numerics),
      fast_numerics_(numerics.fast_kernels()) {}

void Block::normalize_rows(float* x, int64_t rows, const std::vector<float>& weight) const {
  const int64_t dim = config_.hidden_size;
  const float eps = static_cast<float>(config_.rms_norm_eps);
  auto normalize = [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) rms_norm(x + r * dim, dim, weight.data(), eps, x + r * dim);
  };
  // Rows are independent: a prompt's are split over the kernel threads under fast numerics.
  if (fast_numerics_) {
    kernel_pool().parallel_for(rows, kRowGrain, normalize);
  } else {
    normalize(0, rows, 0);
  }
}

void Block::forward(float* streams, int64_t rows, const std::vector<Segment>& segments, const int32_t* token_ids) {
  const int64_t dim = config_.hidden_size;
  Scratch<float> x(static_cast<size_t>(rows * dim)), y(x.size());
  hc_attn_.collapse(streams, rows, x.data());
  normalize_rows(x.data(), rows, attn_norm_);
  attention_.forward(x.data(), rows, segments, y.data());
  hc_attn_.expand(y.data(), rows, streams);

  hc_ffn_.collapse(streams, rows, x.data());
  normalize_rows(x.data(), rows, ffn_norm_);
  {
    ScopedStage stage(Stage::Experts);
    moe_.forward(x.data(), rows, token_ids, y.data());
  }
  hc_ffn_.expand(y.data(), rows, streams);
}

Transformer::Transformer(const ModelConfig& config, const ModelWeights& weights, NumericsOptions numerics)
    : config_(config),
      weights_(weights),
      numerics_(numerics),
      hc_head_(config, weights.hc_head, numerics),
      norm_(to_f32_vector(weights.norm)) {
  for (const BlockWeights& block : weights.layers) blocks_.push_back(std::make_unique<Block>(config, block, numerics));
  if (!weights.mtp.empty()) {
    const MtpWeights& mtp = weights.mtp[0];
    mtp_block_ = std::make_unique<Block>(config, mtp.block, numerics);
    mtp_hc_head_ = std::make_unique<HyperConnectionHead>(config, mtp.hc_head, numerics);
    mtp_enorm_ = to_f32_vector(mtp.enorm);
    mtp_hnorm_ = to_f32_vector(mtp.hnorm);
    mtp_norm_ = to_f32_vector(mtp.norm);
  }
}

SequenceState Transformer::new_sequence() const {
  std::vector<LayerSpec> layers;
  for (const BlockWeights& block : weights_.layers) layers.push_back(block.spec);
  return make_sequence_state(config_, layers, numerics_.kv_roundtrip());
}

SequenceState Transformer::new_mtp_sequence() const {
  if (!mtp_block_) fail("this checkpoint has no MTP block");
  return make_sequence_state(config_, {weights_.mtp[0].block.spec}, numerics_.kv_roundtrip());
}

void Transformer::check_input(const SequenceState& state, std::span<const int32_t> tokens) const {
  if (tokens.empty()) fail("empty input: at least one token is needed");
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= config_.vocab_size) {
      fail("token id ", tokens[i], " at index ", i, " is outside the vocabulary (0..", config_.vocab_size - 1, ")");
    }
  }
  const int64_t end = state.length + static_cast<int64_t>(tokens.size());
  if (end > config_.max_position_embeddings) {
    fail("positions up to ", end - 1, " exceed the model's maximum of ", config_.max_position_embeddings - 1);
  }
}

void Transformer::embed(std::span<const int32_t> tokens, float* out) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    dequantize_rows(weights_.embed, tokens[i], 1, out + i * config_.hidden_size);
  }
}

void Transformer::head(const HyperConnectionHead& hc_head, const std::vector<float>& norm, const float* streams,
                       int64_t rows, float* logits) const {
  ScopedStage stage(Stage::Head);
  const int64_t dim = config_.hidden_size;
  std::vector<float> y(static_cast<size_t>(rows * dim));
  hc_head.collapse(streams, rows, y.data());
  for (int64_t r = 0; r < rows; ++r) {
    rms_norm(y.data() + r * dim, dim, norm.data(), static_cast<float>(config_.rms_norm_eps), y.data() + r * dim);
  }
  apply_linear(numerics_, weights_.head, y.data(), rows, logits);
}

void Transformer::forward(std::vector<SequenceInput>& batch) {
  const ScratchScope scratch_scope;  // the layers' activations reuse one set of buffers
  const int64_t dim = config_.hidden_size, n = config_.hc_mult;
  int64_t rows = 0;
  for (const SequenceInput& input : batch) {
    check_input(*input.state, input.tokens);
    rows += static_cast<int64_t>(input.tokens.size());
  }
  std::vector<int32_t> token_ids;
  std::vector<float> streams(static_cast<size_t>(rows * n * dim));
  std::vector<float> embedding(static_cast<size_t>(dim));
  for (const SequenceInput& input : batch) {
    for (int32_t token : input.tokens) {
      embed({&token, 1}, embedding.data());
      float* row = streams.data() + static_cast<int64_t>(token_ids.size()) * n * dim;
      for (int64_t j = 0; j < n; ++j) std::copy(embedding.begin(), embedding.end(), row + j * dim);
      token_ids.push_back(token);
    }
  }
  for (size_t l = 0; l < blocks_.size(); ++l) {
    std::vector<Segment> segments;
    int64_t offset = 0;
    for (SequenceInput& input : batch) {
      const int64_t count = static_cast<int64_t>(input.tokens.size());
      segments.push_back({offset, count, input.state->length, &input.state->layers[l]});
      offset += count;
    }
    blocks_[l]->forward(streams.data(), rows, segments, token_ids.data());
  }
  // The head runs on the rows whose logits someone asked for.
  std::vector<int64_t> head_rows;
  {
    int64_t offset = 0;
    for (const SequenceInput& input : batch) {
      const int64_t count = static_cast<int64_t>(input.tokens.size());
      if (input.logits) {
        for (int64_t r = input.last_logits_only ? count - 1 : 0; r < count; ++r) head_rows.push_back(offset + r);
      }
      offset += count;
    }
  }
  const int64_t head_count = static_cast<int64_t>(head_rows.size());
  std::vector<float> head_streams(static_cast<size_t>(head_count * n * dim));
  for (int64_t i = 0; i < head_count; ++i) {
    std::copy(streams.begin() + head_rows[i] * n * dim, streams.begin() + (head_rows[i] + 1) * n * dim,
              head_streams.begin() + i * n * dim);
  }
  std::vector<float> all_logits(static_cast<size_t>(head_count * config_.vocab_size));
  if (head_count > 0) head(hc_head_, norm_, head_streams.data(), head_count, all_logits.data());
  int64_t offset = 0, head_offset = 0;
  for (SequenceInput& input : batch) {
    const int64_t count = static_cast<int64_t>(input.tokens.size());
    if (input.logits) {
      const int64_t logit_rows = input.last_logits_only ? 1 : count;
      input.logits->assign(all_logits.begin() + head_offset * config_.vocab_size,
                           all_logits.begin() + (head_offset + logit_rows) * config_.vocab_size);
      head_offset += logit_rows;
    }
    if (input.final_streams) {
      input.final_streams->assign(streams.begin() + offset * n * dim, streams.begin() + (offset + count) * n * dim);
    }
    input.state->length += count;
    offset += count;
  }
}

void Transformer::forward(SequenceState& state, std::span<const int32_t> tokens, std::vector<float>& logits,
                          std::vector<float>* final_streams) {
  std::vector<SequenceInput> batch = {{&state, tokens, &logits, final_streams}};
  forward(batch);
}

void Transformer::forward_mtp(SequenceState& state, const float* final_streams, std::span<const int32_t> next_tokens,
                              std::vector<float>& logits, bool zero_first_embedding) {
  if (!mtp_block_) fail("this checkpoint has no MTP block");
  check_input(state, next_tokens);
  const ScratchScope scratch_scope;
  const MtpWeights& mtp = weights_.mtp[0];
  const int64_t dim = config_.hidden_size, n = config_.hc_mult;
  const int64_t rows = static_cast<int64_t>(next_tokens.size());
  const float eps = static_cast<float>(config_.rms_norm_eps);

  std::vector<float> e(static_cast<size_t>(rows * dim));
  embed(next_tokens, e.data());
  if (zero_first_embedding && state.length == 0) std::fill(e.begin(), e.begin() + dim, 0.0f);
  for (int64_t r = 0; r < rows; ++r) rms_norm(e.data() + r * dim, dim, mtp_enorm_.data(), eps, e.data() + r * dim);
  std::vector<float> projected_e(e.size());
  apply_linear(numerics_, mtp.e_proj, e.data(), rows, projected_e.data(), ActivationQuant::Allowed);

  std::vector<float> h(static_cast<size_t>(rows * n * dim));
  for (int64_t i = 0; i < rows * n; ++i) rms_norm(final_streams + i * dim, dim, mtp_hnorm_.data(), eps, h.data() + i * dim);
  std::vector<float> streams(h.size());
  apply_linear(numerics_, mtp.h_proj, h.data(), rows * n, streams.data(), ActivationQuant::Allowed);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      float* stream = streams.data() + (r * n + j) * dim;
      for (int64_t d = 0; d < dim; ++d) stream[d] += projected_e[r * dim + d];
    }
  }
  std::vector<Segment> segments = {{0, rows, state.length, &state.layers[0]}};
  mtp_block_->forward(streams.data(), rows, segments, next_tokens.data());
  logits.resize(static_cast<size_t>(rows * config_.vocab_size));
  head(*mtp_hc_head_, mtp_norm_, streams.data(), rows, logits.data());
  state.length += rows;
}

}  // namespace lightseek
